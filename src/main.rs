//! The `guildhall` binary: `guildhall serve` runs the server; the CLI nouns (`guildhall org …`,
//! `guildhall member …`) will sit beside it, talking to a server over the API.

use clap::{Parser, Subcommand};
use guildhall::config::ServeConfig;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "guildhall",
    version,
    about = "Organizations, members, roles and access for cloud platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite unless --database-url names PostgreSQL).
    Serve(ServeConfig),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("GUILDHALL_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match Cli::parse().command {
        Command::Serve(config) => guildhall::server::serve(config).await,
    }
}
