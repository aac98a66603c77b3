//! The OpenAPI 3.1 document. Routes are registered through `utoipa_axum::routes!`, so a route
//! exists only with its documentation.

use super::{
    AppState, audit, authzen, billing, check, groups, members, meta, orgs, projects, roles, tokens,
    transfer, users,
};
use super::{invitations, passwords};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Guildhall", description = "Organizations, members, roles and access for cloud platforms."),
    modifiers(&BearerAuth),
    components(schemas(super::problem::Problem))
)]
struct ApiDoc;

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
        .routes(routes!(billing::get_invoice))
        .routes(routes!(billing::invoice_pdf))
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
    DOC.get_or_init(|| routes().split_for_parts().1)
}

/// This document: every route of the API.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_json() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(document())
}
