//! The pure core: identifiers, parsed names, the permission catalog, the rules R1–R14 and the
//! audit vocabulary. Nothing here does IO or knows about HTTP or SQL.

pub mod audit;
pub mod billing;
pub mod error;
pub mod ids;
pub mod invitation;
pub mod invoicing;
pub mod model;
pub mod names;
pub mod password;
pub mod permission;
pub mod role;
pub mod rules;

pub use error::{DomainError, FieldError};
