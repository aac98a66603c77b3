//! UUID newtypes, so a user id can never be passed where an organization id is expected.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies an organization.
    OrgId
);
id_type!(
    /// Identifies a custom role of one organization.
    RoleId
);
id_type!(
    /// Identifies an API token (never the secret itself).
    TokenId
);
id_type!(
    /// Identifies a sign-in session (never the secret itself).
    SessionId
);
id_type!(
    /// Identifies a project.
    ProjectId
);
id_type!(
    /// Identifies a group.
    GroupId
);
id_type!(
    /// Identifies an ownership transfer offer.
    TransferId
);
id_type!(
    /// Identifies an invitation (never its token).
    InvitationId
);
