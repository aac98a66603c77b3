//! Guildhall's pure core: what the rules allow and what a member may do, with no IO.
//!
//! `domain` holds the identifiers, parsed names, the permission catalog, the rules R1–R14 and
//! the audit vocabulary; `authz` the one evaluator and the in-memory index of grants. Nothing
//! here reads a clock, makes an id, touches a database or speaks HTTP: the service layer of the
//! `guildhall` crate passes times and ids in, and does the reading and the following.

pub mod authz;
pub mod domain;
