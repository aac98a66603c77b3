//! Guildhall: organizations, members, roles and access for cloud platforms, as one binary.
//!
//! `domain` and `authz` are the pure core (rules and decisions, no IO), in the
//! `guildhall-core` crate of this workspace so that the compiler keeps them pure; `service` runs
//! the use cases in transactions; `store` persists them on SQLite or PostgreSQL; `api` is the
//! HTTP edge.

pub use guildhall_core::{authz, domain};

pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod console;
pub mod ids;
pub mod mail;
pub mod pdf;
pub mod secret;
pub mod server;
pub mod service;
pub mod store;
