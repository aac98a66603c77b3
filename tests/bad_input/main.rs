//! The bad-input suite (SPEC R12, R14): every route that takes input is sent malformed JSON,
//! unknown fields, wrong types, missing fields, empty and oversized names, bad emails, unknown
//! roles and permissions, ids that are not UUIDs, out-of-range limits, garbage cursors, oversized
//! bodies and non-JSON content types. Each must answer a 4xx problem document with the expected
//! status and stable `code`, and must change nothing: the state every user can see is snapshot
//! before and compared after every single case.
//!
//! R12: to a non-member, an organization and everything in it does not exist: every
//! `/orgs/{org}/...` route answers exactly what it answers for an organization that does not
//! exist.
//!
//! Every test runs on SQLite and on PostgreSQL, through the real server over loopback HTTP.

#[path = "../api/common.rs"]
mod common;

mod support;

mod accounts;
mod audit;
mod billing;
mod duplicates;
mod envelope;
mod invitations;
mod members;
mod orgs;
mod r12;
mod roles;
mod strings;
