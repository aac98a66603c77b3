//! `/orgs/{org}/invitations` and `/invitations`: invitations (R9). The token never appears in an
//! answer: it travels only in the mail.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{MemberDto, Page, PageQuery, RegisteredDto, SessionDto, UserDto, check_roles};
use super::extract::{AppJson, AppPath, AppQuery, Auth, ClientIp, MaybeAuth, path_id};
use super::openapi::{Conflict, Forbidden, Gone, NotFound};
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::ids::InvitationId;
use crate::domain::names::{DisplayName, Email, Password};
use crate::service::invitations::{self, Accepted, Acceptor, InvitationView};
use crate::service::{OrgRef, page_size};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest token accepted; real ones are about 50 characters.
const MAX_TOKEN: usize = 200;

/// `POST /orgs/{org}/invitations`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    /// Whom to invite.
    pub email: String,
    /// Roles to give on acceptance (R6: only roles you may grant).
    pub roles: Vec<String>,
}

/// `POST /invitations/accept`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The token from the invitation's link.
    pub token: String,
    /// Without sign-in: the new account's display name.
    pub name: Option<String>,
    /// Without sign-in: the new account's password (8 characters to 1 KiB, not common or
    /// guessable, not the invited email or the name: 400 `password_too_weak`).
    pub password: Option<String>,
}

/// `POST /invitations/decline`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the link.
    pub token: String,
}

/// An organization as an invitation names it.
#[derive(Serialize, ToSchema)]
pub struct InvitationOrgDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its slug.
    pub slug: String,
}

/// An invitation.
#[derive(Serialize, ToSchema)]
pub struct InvitationDto {
    /// Its id.
    pub id: Uuid,
    /// The organization.
    pub org: InvitationOrgDto,
    /// The invited address.
    pub email: String,
    /// The roles it gives.
    pub roles: Vec<String>,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    pub state: &'static str,
    /// Who invited (`null` if that account is gone).
    pub invited_by: Option<UserDto>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it lapses (7 days after it was made or last re-sent).
    pub expires_at: DateTime<Utc>,
    /// Whether its mail went out: `pending` (being sent or retried), `sent` or `failed`.
    pub mail: &'static str,
}

impl From<&InvitationView> for InvitationDto {
    fn from(v: &InvitationView) -> Self {
        InvitationDto {
            id: v.invitation.id.0,
            org: InvitationOrgDto {
                id: v.org.id.0,
                name: v.org.name.clone(),
                slug: v.org.slug.clone(),
            },
            email: v.invitation.email.clone(),
            roles: v.roles.clone(),
            state: v.state.as_str(),
            invited_by: v.invited_by.as_ref().map(UserDto::from),
            created_at: v.invitation.created_at,
            expires_at: v.invitation.expires_at,
            mail: v.invitation.mail.as_str(),
        }
    }
}

/// What a signed-in acceptance answers: the invitation, now accepted, and the new membership.
#[derive(Serialize, ToSchema)]
pub struct AcceptedDto {
    /// The invitation.
    pub invitation: InvitationDto,
    /// The caller's membership.
    pub member: MemberDto,
}

/// Checks a token's shape: present and not absurdly long (what it opens is the service's to say).
fn check_token(token: &str) -> Result<(), ApiError> {
    let t = token.trim();
    if t.is_empty() || t.len() > MAX_TOKEN {
        return Err(vec![FieldError::new(
            "token",
            format!("must be the token from the link (1 to {MAX_TOKEN} characters)"),
        )]
        .into());
    }
    Ok(())
}

/// The organization's invitations in every state, by email (`members.invite` or
/// `members.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/invitations", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), PageQuery),
    responses((status = 200, body = Page<InvitationDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_invitations(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<InvitationDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page =
        invitations::list_invitations(&s.gh, &who, &OrgRef::parse(&org), from.as_ref(), limit)
            .await?;
    Ok(Json(Page {
        items: page.items.iter().map(InvitationDto::from).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Invite an email with roles (`members.invite`; R6: only roles you may grant). The invitee is
/// mailed a link valid 7 days. 409 `already_member` if the email is a member; 409
/// `invitation_pending` if one is pending for it here (re-send that one instead).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations", tag = "invitations", security(("bearer" = [])), request_body = CreateInvitationRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = InvitationDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn create_invitation(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<CreateInvitationRequest>,
) -> Result<(StatusCode, Json<InvitationDto>), ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&req.email).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_roles(&req.roles) {
        errors.extend(e);
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let v = invitations::create_invitation(&s.gh, &who, &OrgRef::parse(&org), email, &req.roles)
        .await?;
    Ok((StatusCode::CREATED, Json(InvitationDto::from(&v))))
}

/// Revoke an invitation nobody answered (`members.invite`); its token stops working.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/invitations/{id}", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("id" = uuid::Uuid, Path, description = "invitation id")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn revoke_invitation(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, id)): AppPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = InvitationId(path_id(&id, "id")?);
    invitations::revoke_invitation(&s.gh, &who, &OrgRef::parse(&org), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Re-send an invitation nobody answered (`members.invite`): a new token is mailed and the old
/// one dies at once; the 7 days start again.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations/{id}/resend", tag = "invitations", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("id" = uuid::Uuid, Path, description = "invitation id")),
    responses((status = 200, body = InvitationDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn resend_invitation(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, id)): AppPath<(String, String)>,
) -> Result<Json<InvitationDto>, ApiError> {
    let id = InvitationId(path_id(&id, "id")?);
    let v = invitations::resend_invitation(&s.gh, &who, &OrgRef::parse(&org), id).await?;
    Ok(Json(InvitationDto::from(&v)))
}

/// Invitations addressed to my email (case-insensitively) that nobody answered yet, oldest
/// first.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "invitations", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<InvitationDto>)))]
pub async fn my_invitations(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<InvitationDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page = invitations::my_invitations(&s.gh, &who, from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page.items.iter().map(InvitationDto::from).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Accept an invitation with its token. Signed in as the invited email: you join with its roles
/// (200). Not signed in, with `name` and `password`: the account is created with the invited
/// email (409 `email_taken` if one exists: sign in instead), joins and is signed in (201, the
/// new user with a `session`).
/// Unknown, used or re-sent-away tokens: 404 `invitation_not_found`; expired: 410.
#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "invitations", security((), ("bearer" = [])), request_body = AcceptInvitationRequest,
    responses((status = 200, body = AcceptedDto), (status = 201, body = RegisteredDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 410, response = Gone)))]
pub async fn accept_invitation(
    State(s): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<AcceptInvitationRequest>,
) -> Result<Response, ApiError> {
    check_token(&req.token)?;
    let acceptor = match (&who, req.name, req.password) {
        (Some(p), None, None) => Acceptor::SignedIn(p),
        (Some(_), _, _) => {
            return Err(vec![FieldError::new(
                "name",
                "`name` and `password` go only with accepting while signed out",
            )]
            .into());
        }
        (None, None, None) => {
            return Err(crate::domain::DomainError::Unauthenticated.into());
        }
        (None, name, password) => {
            let mut errors = Vec::new();
            let name = match name {
                Some(n) => DisplayName::parse(&n).map_err(|e| errors.push(e)).ok(),
                None => {
                    errors.push(FieldError::new("name", "is needed to create the account"));
                    None
                }
            };
            let password = match password {
                Some(p) => Password::parse(p).map_err(|e| errors.push(e)).ok(),
                None => {
                    errors.push(FieldError::new(
                        "password",
                        "is needed to create the account",
                    ));
                    None
                }
            };
            match (name, password) {
                (Some(name), Some(password)) if errors.is_empty() => {
                    Acceptor::NewAccount { name, password, ip }
                }
                _ => return Err(errors.into()),
            }
        }
    };
    Ok(
        match invitations::accept_invitation(&s.gh, &req.token, acceptor).await? {
            Accepted::Joined(view, member) => Json(AcceptedDto {
                invitation: InvitationDto::from(&*view),
                member: MemberDto::from(&member),
            })
            .into_response(),
            Accepted::Registered(user, session) => (
                StatusCode::CREATED,
                Json(RegisteredDto {
                    user: UserDto::from(&user),
                    session: SessionDto {
                        token: secrecy::ExposeSecret::expose_secret(&session.token).to_owned(),
                        expires_at: session.expires_at,
                    },
                }),
            )
                .into_response(),
        },
    )
}

/// Decline an invitation with its token (no sign-in needed; if signed in, as the invited email).
#[utoipa::path(post, path = "/api/v1/invitations/decline", tag = "invitations", security((), ("bearer" = [])), request_body = TokenRequest,
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 410, response = Gone)))]
pub async fn decline_invitation(
    State(s): State<AppState>,
    MaybeAuth(who): MaybeAuth,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<TokenRequest>,
) -> Result<StatusCode, ApiError> {
    check_token(&req.token)?;
    invitations::decline_invitation(&s.gh, &req.token, who.as_ref(), ip).await?;
    Ok(StatusCode::NO_CONTENT)
}
