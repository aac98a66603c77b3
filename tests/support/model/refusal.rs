//! How the model says no: the status and stable `code` of the problem document the server must
//! answer (SPEC §5, STYLE §7), one table for every suite.

/// Why a request is refused: the status and the stable `code` of the problem document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
}

const fn refusal(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}

// Bad input (R14) and who may ask.
pub const INVALID: Refusal = refusal(400, "validation_failed");
pub const UNAUTHENTICATED: Refusal = refusal(401, "unauthenticated");
pub const FORBIDDEN: Refusal = refusal(403, "forbidden");
pub const SESSION_REQUIRED: Refusal = refusal(403, "session_required");

// R6: nobody grants what they do not hold, nobody changes their own roles.
pub const NOT_GRANTABLE: Refusal = refusal(403, "role_not_grantable");
pub const OWN_ROLES: Refusal = refusal(403, "cannot_change_own_roles");
pub const NOT_HELD: Refusal = refusal(403, "permission_not_held");

// R11, R12: what does not exist for the caller.
pub const ORG_NOT_FOUND: Refusal = refusal(404, "org_not_found");
pub const MEMBER_NOT_FOUND: Refusal = refusal(404, "member_not_found");
pub const USER_NOT_FOUND: Refusal = refusal(404, "user_not_found");
pub const ROLE_NOT_FOUND: Refusal = refusal(404, "role_not_found");
pub const PROJECT_NOT_FOUND: Refusal = refusal(404, "project_not_found");
pub const GROUP_NOT_FOUND: Refusal = refusal(404, "group_not_found");

// R3, R4: the owner.
pub const OWNER_NEEDS_TRANSFER: Refusal = refusal(409, "owner_requires_transfer");
pub const OWNER_IS_FIXED: Refusal = refusal(409, "owner_is_fixed");
pub const OWNER_CANNOT_LEAVE: Refusal = refusal(409, "owner_cannot_leave");

// Conflicts (R1 and its kin).
pub const ALREADY_MEMBER: Refusal = refusal(409, "already_member");
pub const ROLE_NAME_TAKEN: Refusal = refusal(409, "role_name_taken");
pub const ROLE_IN_USE: Refusal = refusal(409, "role_in_use");
pub const BUILTIN_ROLE: Refusal = refusal(409, "builtin_role");
pub const PROJECT_NAME_TAKEN: Refusal = refusal(409, "project_name_taken");
pub const GROUP_NAME_TAKEN: Refusal = refusal(409, "group_name_taken");

// R9: invitations.
pub const INVITATION_PENDING: Refusal = refusal(409, "invitation_pending");
pub const INVITATION_NOT_FOUND: Refusal = refusal(404, "invitation_not_found");
pub const INVITATION_OTHER_EMAIL: Refusal = refusal(403, "invitation_other_email");
pub const INVITATION_CLOSED: Refusal = refusal(409, "invitation_closed");

// R7: ownership transfers.
pub const TARGET_NOT_ADMIN: Refusal = refusal(409, "transfer_target_not_admin");
pub const TRANSFER_PENDING: Refusal = refusal(409, "transfer_pending");
pub const TRANSFER_NOT_FOUND: Refusal = refusal(404, "transfer_not_found");
