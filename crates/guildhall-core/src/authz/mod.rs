//! Authorization: the one evaluator every permission question goes through, and the in-memory
//! index the check API answers from (pure: the service layer loads it and keeps it current).

pub mod eval;
pub mod index;
pub mod preview;
mod snapshot;

pub use snapshot::OrgSnapshot;
