//! The OpenAPI 3.1 document. Routes are registered through `utoipa_axum::routes!`, so a route
//! exists only with its documentation.
//!
//! Error answers are declared once, here, as reusable responses (`#/components/responses/…`),
//! each a problem document (`application/problem+json`, the `Problem` schema). A handler's
//! `#[utoipa::path]` lists the statuses its use case can give (`(status = 404, response =
//! NotFound)`); [`EdgeAnswers`] adds those that the edge gives on every route of a kind, so no
//! handler repeats them: 401 where a credential is taken, 400/413/415 where a JSON body is read,
//! 400 where a path or query is parsed, 500/503 wherever the database is reached.

use super::{
    AppState, audit, authzen, billing, check, groups, members, meta, orgs, projects, roles, tokens,
    transfer, users,
};
use super::{invitations, passwords};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Guildhall", description = "Organizations, members, roles and access for cloud platforms."),
    modifiers(&BearerAuth),
    components(
        schemas(super::problem::Problem),
        responses(
            BadRequest,
            Unauthorized,
            Forbidden,
            NotFound,
            Conflict,
            Gone,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unprocessable,
            TooManyRequests,
            InternalError,
            Unavailable
        )
    )
)]
struct ApiDoc;

/// The media type of every error answer (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// A problem document answer with `description`.
fn problem_answer(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    )
}

/// An integer header, e.g. `Retry-After` in seconds.
fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some(description))
        .build()
}

/// A string header.
fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

/// Declares reusable problem answers: each a unit type whose [`ToResponse`] is the component
/// `#/components/responses/<Type>`, referred to from `#[utoipa::path]` as
/// `(status = …, response = Type)`.
macro_rules! problem_answers {
    ($($(#[$doc:meta])* $name:ident = $description:literal $(, $extra:expr)?;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let answer = problem_answer($description);
                $(let answer = $extra(answer);)?
                (stringify!($name), answer.build().into())
            }
        }
    )*};
}

problem_answers! {
    /// 400: the input does not fit (`validation_failed`, `malformed_json`, `revision_ahead`,
    /// `password_too_weak`, …).
    BadRequest = "bad input: `validation_failed` (with `errors` naming the fields), `malformed_json`, `revision_ahead`, `password_too_weak` (a common or guessable password, or the account's email or name)";
    /// 401: no valid credential.
    Unauthorized = "no valid credential (`unauthenticated`, `invalid_credentials`)",
        |a: ResponseBuilder| a.header("WWW-Authenticate", string_header("`Bearer`"));
    /// 403: a member lacking a permission, or a credential of the wrong kind.
    Forbidden = "the caller lacks a permission, or its credential may not do this (`forbidden`, `role_not_grantable`, `permission_not_held`, `token_limited`, `session_required`, …)";
    /// 404: missing, or not visible to the caller (R11, R12).
    NotFound = "missing, or not visible to the caller (R11, R12): `org_not_found`, `project_not_found`, …";
    /// 409: a rule or a concurrent change refuses the change.
    Conflict = "refused by a rule or a concurrent change (`name_taken`, `owner_cannot_leave`, `conflict`, …)";
    /// 410: an offer or a link that expired.
    Gone = "the offer or link expired (`transfer_expired`, `invitation_expired`, `password_token_expired`)";
    /// 413: the body is over the limit.
    PayloadTooLarge = "the request body is over the limit (`payload_too_large`)";
    /// 415: the body is not sent as JSON.
    UnsupportedMediaType = "the request body is not sent as `application/json` (`unsupported_media_type`)";
    /// 422: well-formed input that a billing rule refuses.
    Unprocessable = "well-formed but refused (`plan_limit_exceeded`, `vat_invalid`, `card_number_refused`, `voucher_invalid`, …)";
    /// 429: too many failed attempts.
    TooManyRequests = "too many attempts (`too_many_attempts`); retry after `Retry-After` seconds",
        |a: ResponseBuilder| a.header("Retry-After", integer_header("seconds to wait"));
    /// 500: an internal error; the detail quotes the request id the log has the cause under.
    InternalError = "internal error (`internal`), quoting its `request_id`";
    /// 503: the database is busy or does not answer, or the server is shutting down.
    Unavailable = "the database is busy (`busy`, with `Retry-After`) or does not answer (`database_unavailable`), or the server is shutting down (`shutting_down`)",
        |a: ResponseBuilder| a.header("Retry-After", integer_header("seconds to wait"));
}

/// `Problem.errors`: the offending fields (`FieldError`, a domain type without a schema).
pub fn field_errors_schema() -> utoipa::openapi::schema::Array {
    let field = ObjectBuilder::new()
        .property(
            "field",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("the request field, e.g. `name` or `roles[1]`")),
        )
        .property(
            "reason",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("what is wrong with it")),
        )
        .required("field")
        .required("reason");
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(field)
        .description(Some("The offending fields, for `validation_failed`."))
        .build()
}

/// A string that is one of `values`, for parameters whose values are a closed list.
fn one_of<S: Into<serde_json::Value>>(
    values: impl IntoIterator<Item = S>,
) -> utoipa::openapi::Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// The `action` filter of the audit log: an audit action's name, the name it had before a
/// rename, or a family (`member.*`).
pub fn audit_action_schema() -> utoipa::openapi::Object {
    use crate::domain::audit::{Action, ActionFilter};
    let families: Vec<String> = ActionFilter::families()
        .into_iter()
        .map(|f| format!("{f}.*"))
        .collect();
    let names: Vec<String> = Action::ALL
        .iter()
        .map(|a| a.as_str())
        .chain(Action::ALL.iter().filter_map(|a| a.former_name()))
        .map(str::to_owned)
        .chain(families)
        .collect();
    one_of(names)
}

/// A project permission, as the check API names it.
pub fn project_permission_schema() -> utoipa::openapi::Object {
    one_of(
        crate::domain::permission::ProjectPermission::ALL
            .iter()
            .map(|p| p.as_str()),
    )
}

/// Adds the answers the edge gives on every route of a kind, so that each `#[utoipa::path]`
/// lists only what its use case decides.
struct EdgeAnswers;

impl Modify for EdgeAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let answer = |name: &str| RefOr::Ref(Ref::from_response_name(name));
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in operations.into_iter().flatten() {
                let authenticated = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let body = op.request_body.is_some();
                let parsed = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let mut add = |status: &str, name: &str| {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| answer(name));
                };
                if authenticated {
                    // `Auth` and `CheckCaller` refuse a missing or unknown credential.
                    add("401", "Unauthorized");
                }
                if body {
                    // `AppJson`: bad JSON or fields (R14), too large, not JSON.
                    add("400", "BadRequest");
                    add("413", "PayloadTooLarge");
                    add("415", "UnsupportedMediaType");
                }
                if parsed {
                    // `AppPath` and `AppQuery` refuse what does not parse.
                    add("400", "BadRequest");
                }
                if authenticated || body {
                    // Both reach the database: a credential is looked up, a body is acted on.
                    add("500", "InternalError");
                    add("503", "Unavailable");
                }
            }
        }
    }
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route with its documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::sign_up))
        .routes(routes!(users::sign_in))
        .routes(routes!(users::sign_out))
        .routes(routes!(users::me))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(meta::permission_catalog))
        .routes(routes!(orgs::list_my_orgs, orgs::create_org))
        .routes(routes!(orgs::get_org, orgs::update_org, orgs::delete_org))
        .routes(routes!(orgs::leave_org))
        .routes(routes!(members::list_members, members::add_member))
        .routes(routes!(
            members::change_member_roles,
            members::remove_member
        ))
        .routes(routes!(members::member_permissions))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::update_role, roles::delete_role))
        .routes(routes!(audit::list_audit))
        .routes(routes!(
            transfer::offer_transfer,
            transfer::get_transfer,
            transfer::cancel_transfer
        ))
        .routes(routes!(transfer::accept_transfer))
        .routes(routes!(transfer::decline_transfer))
        .routes(routes!(projects::list_projects, projects::create_project))
        .routes(routes!(
            projects::get_project,
            projects::rename_project,
            projects::delete_project
        ))
        .routes(routes!(
            projects::set_project_member,
            projects::remove_project_member
        ))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(
            groups::get_group,
            groups::rename_group,
            groups::delete_group
        ))
        .routes(routes!(
            groups::put_group_member,
            groups::remove_group_member
        ))
        .routes(routes!(
            groups::put_group_project,
            groups::remove_group_project
        ))
        .routes(routes!(billing::get_plan, billing::set_plan))
        .routes(routes!(billing::get_billing, billing::put_billing))
        .routes(routes!(billing::redeem_voucher))
        .routes(routes!(billing::list_invoices))
        .routes(routes!(billing::upcoming_invoice))
        .routes(routes!(billing::list_plans))
        .routes(routes!(billing::get_invoice))
        .routes(routes!(billing::invoice_pdf))
        .routes(routes!(billing::set_invoice_status))
        .routes(routes!(check::check))
        .merge(
            // A batch of 1,000 checks is larger than any other request.
            OpenApiRouter::new()
                .routes(routes!(check::check_batch))
                .routes(routes!(authzen::evaluations))
                .layer(axum::extract::DefaultBodyLimit::max(
                    super::BATCH_BODY_LIMIT,
                )),
        )
        .routes(routes!(check::user_projects))
        .routes(routes!(authzen::evaluation))
        .routes(routes!(authzen::configuration))
        .routes(routes!(meta::healthz))
        .routes(routes!(meta::readyz))
        .routes(routes!(meta::metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(
            invitations::list_invitations,
            invitations::create_invitation
        ))
        .routes(routes!(invitations::revoke_invitation))
        .routes(routes!(invitations::resend_invitation))
        .routes(routes!(invitations::my_invitations))
        .routes(routes!(invitations::accept_invitation))
        .routes(routes!(invitations::decline_invitation))
        .routes(routes!(passwords::forgot_password))
        .routes(routes!(passwords::set_password))
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = routes().split_for_parts().1;
        // After the routes: `modifiers(...)` run before `routes!` adds any path.
        EdgeAnswers.modify(&mut doc);
        doc
    })
}

/// This document: every route of the API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(document())
}
