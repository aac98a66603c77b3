//! `guildhall` as a client of any Guildhall server (SPEC §8): `login`, then nouns and verbs
//! over the API. Parsing lives in `args`, the HTTP client in `client`, the output switch in
//! `output`, the credentials file in `credentials`; each noun's work in its own module. No
//! module here opens a database.

pub mod args;
pub mod client;
pub mod credentials;
pub mod error;
pub mod output;

mod audit;
mod billing;
mod check;
mod group;
mod invitation;
mod member;
mod org;
mod project;
mod role;
mod session;
mod token;
mod transfer;

pub use args::Command;
use client::Client;
use credentials::Credentials;
use error::{CliError, Result};

/// Runs one client command and answers the process exit status; errors are printed on
/// standard error. `app` is the whole command line's definition, for `completions`.
pub async fn run(command: Command, app: clap::Command) -> i32 {
    match dispatch(command, app).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

async fn dispatch(command: Command, mut app: clap::Command) -> Result<()> {
    use args::Command as C;
    match command {
        C::Completions { shell } => {
            let name = app.get_name().to_owned();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut app, name, &mut script);
            use std::io::Write as _;
            // A closed pipe (`| head`) is the reader's choice, not an error.
            let _ = std::io::stdout().write_all(&script);
            Ok(())
        }
        C::Login(a) => session::login(a).await,
        C::Logout(o) => session::logout(&Ctx::new(None)?, (&o).into()).await,
        C::Whoami(o) => session::whoami(&Ctx::new(None)?, (&o).into()).await,
        C::Org(n) => org::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Member(n) => member::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Invite(n) => invitation::run_invite(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Invitation(n) => invitation::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Role(n) => role::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Group(n) => group::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Project(n) => project::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Transfer(n) => transfer::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Billing(n) => billing::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Invoice(n) => billing::run_invoice(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Voucher(n) => billing::run_voucher(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Token(n) => token::run(&Ctx::new(n.org)?, n.command, (&n.out).into()).await,
        C::Audit(a) => {
            let out = (&a.out).into();
            audit::run(&Ctx::new(a.org.clone())?, a, out).await
        }
        C::Check(a) => {
            let out = (&a.out).into();
            check::run(&Ctx::new(a.org.clone())?, a, out).await
        }
    }
}

/// What every command runs with: the server's client, the stored credentials and the
/// organization it names.
pub struct Ctx {
    /// The API client, signed in when a token is known.
    pub client: Client,
    /// The credentials file's contents.
    pub creds: Credentials,
    /// `--org`, when given.
    org_flag: Option<String>,
}

impl Ctx {
    /// Reads the credentials (refusing a file others can read) and the overriding environment.
    fn new(org_flag: Option<String>) -> Result<Self> {
        let creds = credentials::load()?;
        let server = credentials::env("GUILDHALL_SERVER")
            .or_else(|| creds.server.clone())
            .unwrap_or_else(|| credentials::DEFAULT_SERVER.to_owned());
        let token = credentials::env("GUILDHALL_TOKEN").or_else(|| creds.token.clone());
        Ok(Ctx {
            client: Client::new(&server, token)?,
            creds,
            org_flag,
        })
    }

    /// The client, refusing up front when there is no token to send.
    pub fn api(&self) -> Result<&Client> {
        if self.client.signed_in() {
            Ok(&self.client)
        } else {
            Err(CliError::SignedOut)
        }
    }

    /// The organization named by `--org`, GUILDHALL_ORG, or `org switch`, in that order.
    pub fn org(&self) -> Result<String> {
        self.org_flag
            .clone()
            .or_else(|| credentials::env("GUILDHALL_ORG"))
            .or_else(|| self.creds.org.clone())
            .ok_or_else(|| {
                CliError::Usage(
                    "which organization? give --org SLUG, or choose one with `guildhall org switch SLUG`"
                        .to_owned(),
                )
            })
    }

    /// How messages name `org`: the slug `org switch` saw for its stored id, else as given.
    pub fn org_label(&self, org: &str) -> String {
        match (&self.creds.org, &self.creds.org_slug) {
            (Some(id), Some(slug)) if id == org => slug.clone(),
            _ => org.to_owned(),
        }
    }

    /// `--org` or GUILDHALL_ORG only, never the `org switch` default.
    pub fn explicit_org(&self) -> Option<String> {
        self.org_flag
            .clone()
            .or_else(|| credentials::env("GUILDHALL_ORG"))
    }

    /// A member's user id: an id as given, an email looked up among `org`'s members.
    pub async fn member_id(&self, org: &str, user: &str) -> Result<String> {
        if uuid::Uuid::parse_str(user).is_ok() || !user.contains('@') {
            return Ok(user.to_owned());
        }
        let members = self.api()?.list(&["orgs", org, "members"], &[]).await?;
        members
            .iter()
            .find(|m| {
                m.pointer("/user/email")
                    .and_then(serde_json::Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(user.trim()))
            })
            .and_then(|m| m.pointer("/user/id").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .ok_or_else(|| CliError::Api {
                status: 404,
                title: "Not Found".to_owned(),
                detail: format!(
                    "no member of `{}` has the email `{user}`",
                    self.org_label(org)
                ),
                code: Some("member_not_found".to_owned()),
                fields: Vec::new(),
            })
    }
}
