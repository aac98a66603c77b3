//! Property tests of issue 4 (projects, groups, project roles, the grant index and the check
//! API) against a plain in-memory model written from SPEC: random operation sequences on a real
//! server (SQLite and PostgreSQL), and many pure cases of the index's own functions.
//!
//! The permission tables, the organization's state (who reaches which project) and the runner
//! are the shared model of `tests/support/model` (also `tests/model`'s); this suite keeps its
//! own operations (`reach`: projects, groups, project roles) and the properties only it checks.

#[path = "../api/common.rs"]
mod common;
#[path = "../support/model/mod.rs"]
#[allow(
    dead_code,
    unused_imports,
    reason = "the model is shared with tests/model, which uses other parts of it"
)]
mod model;

mod pure;
mod reach;
mod server;

use common::Store;

#[test]
fn r11_project_reach_matches_the_model_on_sqlite() {
    server::run(Store::Sqlite);
}

#[test]
fn r11_project_reach_matches_the_model_on_postgres() {
    server::run(Store::Postgres);
}
