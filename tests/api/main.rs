//! The integration suite: every test talks to a real server over loopback HTTP, on a real SQLite
//! file and on a real PostgreSQL database.

mod common;

mod access_matrix;
mod accounts;
mod audit;
mod billing;
mod binary;
mod check;
mod concurrency;
mod connections;
mod guidance;
mod invitations;
mod invoices;
mod lookalike_names;
mod members;
mod meta;
mod openapi;
mod orgs;
mod outages;
mod outbox;
mod password_strength;
mod passwords;
mod projects;
mod revision;
mod role_preview;
mod roles;
mod smtp;
mod throttle;
mod tokens;
mod transfer;
