//! Guildhall: organizations, members, roles and access for cloud platforms, as one binary.
//!
//! `domain` and `authz` are the pure core (rules and decisions, no IO); `service` runs the use
//! cases in transactions; `store` persists them on SQLite or PostgreSQL; `api` is the HTTP edge.

pub mod api;
pub mod authz;
pub mod clock;
pub mod config;
pub mod domain;
pub mod mail;
pub mod pdf;
pub mod secret;
pub mod server;
pub mod service;
pub mod store;
