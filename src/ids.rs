//! Fresh ids. The core never makes one (it reads no clock); the use cases do, here.

use crate::domain::ids::{
    GroupId, InvitationId, OrgId, ProjectId, RoleId, SessionId, TokenId, TransferId, UserId,
};
use uuid::Uuid;

/// A fresh, time-ordered id (UUIDv7), so ids sort roughly by creation.
pub trait NewId: From<Uuid> {
    /// A new id.
    fn new() -> Self {
        Self::from(Uuid::now_v7())
    }
}

impl NewId for GroupId {}
impl NewId for InvitationId {}
impl NewId for OrgId {}
impl NewId for ProjectId {}
impl NewId for RoleId {}
impl NewId for SessionId {}
impl NewId for TokenId {}
impl NewId for TransferId {}
impl NewId for UserId {}
