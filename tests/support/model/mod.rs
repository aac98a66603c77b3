//! The one model both property suites share (`tests/model`, the rules of organizations and
//! their members; `tests/authz_model`, projects, groups and the check API), included by each
//! with `#[path]`:
//!
//! - [`catalog`]: the permission tables, transcribed once from SPEC §1-§3 and §5, never from
//!   the library (a model that copied the code could not catch its bugs);
//! - [`org`]: the state of one organization and what follows from it (who holds what, who
//!   reaches which project);
//! - [`grants`]: R3, R4 and R6 on organization roles (who may give, take away or hold which
//!   role), the decisions both suites' member operations share;
//! - [`refusal`]: the statuses and problem codes the model answers;
//! - [`runner`]: how a generated sequence of operations is played on a real server and on the
//!   model and compared, on either store;
//! - [`checks`]: properties of the server's state every suite checks the same way.
//!
//! Each suite keeps what is its own: its operations (what they are, how they are generated,
//! sent and decided) and the properties only it checks.

pub mod catalog;
pub mod checks;
pub mod grants;
pub mod org;
pub mod refusal;
pub mod runner;

pub use catalog::{Builtin, PERMS, PROJECT_PERMS, PRole, Perms, org_reach, owner_only};
pub use org::{Acting, Org, Role};
pub use refusal::Refusal;
