//! Property tests of R3 and R6 against a plain in-memory model: random operation sequences by
//! random actors on a real server (SQLite and PostgreSQL), and many pure cases of the rule
//! functions themselves; and the model extended with invitations (R9) and ownership transfers
//! (R7).
//!
//! The permission tables, the organization's state and the runner are the shared model of
//! `tests/support/model` (also `tests/authz_model`'s); this suite keeps its own operations
//! (`rules`: members, custom roles, API tokens; `invites`: invitations and transfers) and the
//! properties only it checks.

#[path = "../api/common.rs"]
mod common;
#[path = "../support/model/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the model is shared with tests/authz_model, which uses other parts of it"
)]
mod model;

mod billing;
mod invites;
mod preview;
mod pure;
mod rules;
mod server;

use common::Store;

#[test]
fn r3_r6_random_role_changes_match_the_model_on_sqlite() {
    server::run(Store::Sqlite);
}

#[test]
fn r3_r6_random_role_changes_match_the_model_on_postgres() {
    server::run(Store::Postgres);
}

#[test]
fn r3_r7_r9_random_invitations_and_transfers_match_the_model_on_sqlite() {
    invites::run(Store::Sqlite);
}

#[test]
fn r3_r7_r9_random_invitations_and_transfers_match_the_model_on_postgres() {
    invites::run(Store::Postgres);
}

#[test]
fn role_change_previews_equal_what_the_change_does_on_sqlite() {
    preview::run(Store::Sqlite);
}

#[test]
fn role_change_previews_equal_what_the_change_does_on_postgres() {
    preview::run(Store::Postgres);
}
