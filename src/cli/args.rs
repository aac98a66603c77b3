//! Every clap definition of the client commands (SPEC §8), apart from the work they do: the
//! nouns, their verbs and flags, and the flags every noun shares (`--org`, `--output`,
//! `--quiet`). The work lives in one module per noun beside this one.

use clap::{Args, Subcommand, ValueEnum};

/// The client commands: `guildhall` as a client of any Guildhall server, over the API.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Sign in to a Guildhall server and keep the session in the credentials file.
    #[command(
        after_help = "Examples:\n  guildhall login --server https://guildhall.example.com --email ada@example.com\n  echo \"$PASSWORD\" | guildhall login --email ci@example.com --password-stdin"
    )]
    Login(LoginArgs),
    /// End the session on the server and forget it here.
    #[command(after_help = "Example:\n  guildhall logout")]
    Logout(OutputArgs),
    /// Show who the stored credentials (or GUILDHALL_TOKEN) sign in as.
    #[command(after_help = "Example:\n  guildhall whoami --output json")]
    Whoami(OutputArgs),
    /// Organizations: list, create, show, rename, delete, leave, switch.
    #[command(
        after_help = "Example:\n  guildhall org create \"Acme Corp\" && guildhall org switch acme-corp"
    )]
    Org(Noun<OrgCommand>),
    /// Members of an organization and their roles.
    #[command(
        after_help = "Example:\n  guildhall member set-roles ada@example.com --role developer --role billing --org acme"
    )]
    Member(Noun<MemberCommand>),
    /// Invitations an organization sent.
    #[command(
        after_help = "Example:\n  guildhall invite create bob@example.com --role developer --org acme"
    )]
    Invite(Noun<InviteCommand>),
    /// Invitations addressed to me.
    #[command(
        after_help = "Example:\n  guildhall invitation accept 'https://guildhall.example.com/invitations/accept?token=…'"
    )]
    Invitation(Noun<InvitationCommand>),
    /// Custom roles of an organization (built-in roles are listed too).
    #[command(
        after_help = "Example:\n  guildhall role create deployer --permission projects.read --permission projects.deploy"
    )]
    Role(Noun<RoleCommand>),
    /// Groups: named sets of members given a project role on chosen projects.
    #[command(
        after_help = "Example:\n  guildhall group grant backend api --role contributor --org acme"
    )]
    Group(Noun<GroupCommand>),
    /// Projects, their plans and their direct members.
    #[command(
        after_help = "Example:\n  guildhall project plan api --tier pro --storage 20 --org acme"
    )]
    Project(Noun<ProjectCommand>),
    /// Ownership transfer: the owner offers it to an admin, who accepts or declines.
    #[command(after_help = "Example:\n  guildhall transfer offer ada@example.com --org acme")]
    Transfer(Noun<TransferCommand>),
    /// The billing profile (holders of billing.read only).
    #[command(
        after_help = "Example:\n  guildhall billing set --name \"Acme SAS\" --line1 \"1 rue de la Paix\" --postal-code 75002 --city Paris --country FR"
    )]
    Billing(Noun<BillingCommand>),
    /// Invoices: list, show, download the PDF.
    #[command(
        after_help = "Example:\n  guildhall invoice download 0b5c…e1 --file march.pdf --org acme"
    )]
    Invoice(Noun<InvoiceCommand>),
    /// Vouchers: redeem a code against the next invoice.
    #[command(after_help = "Example:\n  guildhall voucher redeem WELCOME-2026 --org acme")]
    Voucher(Noun<VoucherCommand>),
    /// The audit log, newest first; `--follow` waits for new events until interrupted.
    #[command(
        after_help = "Examples:\n  guildhall audit --action 'member.*' --since 2026-01-01 --org acme\n  guildhall audit --follow --org acme"
    )]
    Audit(AuditArgs),
    /// My API tokens (the secret is printed once, by `token create`).
    #[command(
        after_help = "Example:\n  guildhall token create ci --org acme --permission projects.read --expires 2026-12-31"
    )]
    Token(Noun<TokenCommand>),
    /// Ask whether a user holds a permission in an organization or on a project.
    #[command(
        after_help = "Examples:\n  guildhall check 0198…7a members.invite --org acme\n  guildhall check 0198…7a project.deploy --project 0198…b2\n\nThe check API takes an API token made with `guildhall token create NAME --check`\n(pass it as GUILDHALL_TOKEN)."
    )]
    Check(CheckArgs),
    /// Print shell completions for bash, zsh or fish.
    #[command(
        after_help = "Example:\n  guildhall completions bash > /etc/bash_completion.d/guildhall"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// How results are printed.
#[derive(ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Aligned tables for people.
    #[default]
    Table,
    /// The API's own JSON; a list is one array of every item.
    Json,
}

/// `--output` and `--quiet`, taken by every command.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// `table` (the default) or `json` (the API's own JSON; a list is one array of every item).
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Print ids only, one a line.
    #[arg(long, short = 'q', global = true, conflicts_with = "output")]
    pub quiet: bool,
}

/// A noun with its verbs, plus the shared flags.
#[derive(Args, Debug)]
pub struct Noun<C: Subcommand> {
    /// The verb.
    #[command(subcommand)]
    pub command: C,
    /// The organization (slug or id); defaults to GUILDHALL_ORG, then the one
    /// `guildhall org switch` chose.
    #[arg(long, global = true)]
    pub org: Option<String>,
    /// Output flags.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `guildhall login`.
#[derive(Args, Debug)]
pub struct LoginArgs {
    /// The server's base URL; defaults to GUILDHALL_SERVER, then the last one signed in to,
    /// then http://127.0.0.1:8080.
    #[arg(long)]
    pub server: Option<String>,
    /// The account's email; asked for when left out.
    #[arg(long)]
    pub email: Option<String>,
    /// Read the password from standard input (for scripts) instead of prompting for it.
    #[arg(long)]
    pub password_stdin: bool,
    /// Output flags.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `guildhall org …`.
#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Organizations I belong to, with my roles and their owner.
    #[command(after_help = "Example:\n  guildhall org list --search acme")]
    List {
        /// Keep those whose name contains this.
        #[arg(long)]
        search: Option<String>,
    },
    /// Create an organization; I become its owner.
    #[command(after_help = "Example:\n  guildhall org create \"Acme Corp\" --slug acme")]
    Create {
        /// Its name, unique on the server.
        name: String,
        /// Its slug (derived from the name when left out).
        #[arg(long)]
        slug: Option<String>,
    },
    /// Show an organization (the current one when left out).
    #[command(after_help = "Example:\n  guildhall org show acme")]
    Show {
        /// Slug or id.
        org: Option<String>,
    },
    /// Rename an organization, or change its slug.
    #[command(
        after_help = "Example:\n  guildhall org rename \"Acme Inc\" --slug acme-inc --org acme"
    )]
    Rename {
        /// The new name (left out: keep it; then give --slug).
        name: Option<String>,
        /// A new slug.
        #[arg(long)]
        slug: Option<String>,
    },
    /// Delete an organization (the owner only, once it has no projects).
    #[command(after_help = "Example:\n  guildhall org delete acme")]
    Delete {
        /// Slug or id; always named, never defaulted.
        org: String,
    },
    /// Leave an organization (the owner transfers ownership first).
    #[command(after_help = "Example:\n  guildhall org leave acme")]
    Leave {
        /// Slug or id (the current one when left out).
        org: Option<String>,
    },
    /// Make an organization the default `--org` of every command.
    #[command(after_help = "Example:\n  guildhall org switch acme")]
    Switch {
        /// Slug or id.
        org: String,
    },
}

/// `guildhall member …`.
#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// Members with their roles and groups.
    #[command(after_help = "Example:\n  guildhall member list --org acme --output json")]
    List,
    /// Add a registered user, or with --register create the account and add it.
    #[command(
        after_help = "Examples:\n  guildhall member add ada@example.com --role developer\n  guildhall member add new@example.com --register --name \"New Person\" --role member"
    )]
    Add {
        /// The user's email.
        email: String,
        /// A role to give (repeat, or separate with commas).
        #[arg(long = "role", alias = "roles", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Create the account first; it gets a link to set its password.
        #[arg(long, requires = "name")]
        register: bool,
        /// The new account's display name (with --register).
        #[arg(long)]
        name: Option<String>,
    },
    /// Replace a member's roles.
    #[command(
        after_help = "Example:\n  guildhall member set-roles ada@example.com --role admin,billing --dry-run"
    )]
    SetRoles {
        /// The member: user id or email.
        user: String,
        /// The member's roles from now on (repeat, or separate with commas).
        #[arg(long = "role", alias = "roles", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Show what the change would do, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove a member from the organization.
    #[command(after_help = "Example:\n  guildhall member remove ada@example.com --org acme")]
    Remove {
        /// The member: user id or email.
        user: String,
    },
    /// A member's effective permissions, with where each comes from.
    #[command(after_help = "Example:\n  guildhall member permissions ada@example.com --org acme")]
    Permissions {
        /// The member: user id or email.
        user: String,
    },
}

/// `guildhall invite …`.
#[derive(Subcommand, Debug)]
pub enum InviteCommand {
    /// Invite someone by email, with the roles they get on accepting.
    #[command(
        after_help = "Example:\n  guildhall invite create bob@example.com --role developer --org acme"
    )]
    Create {
        /// Whom to invite.
        email: String,
        /// A role to give (repeat, or separate with commas).
        #[arg(long = "role", alias = "roles", value_delimiter = ',', required = true)]
        roles: Vec<String>,
    },
    /// The organization's invitations.
    #[command(after_help = "Example:\n  guildhall invite list --org acme")]
    List,
    /// Revoke a pending invitation.
    #[command(after_help = "Example:\n  guildhall invite revoke 0198…c4 --org acme")]
    Revoke {
        /// The invitation's id.
        id: String,
    },
    /// Send a pending invitation again, with a new token (the old link stops working).
    #[command(after_help = "Example:\n  guildhall invite resend 0198…c4 --org acme")]
    Resend {
        /// The invitation's id.
        id: String,
    },
}

/// `guildhall invitation …`.
#[derive(Subcommand, Debug)]
pub enum InvitationCommand {
    /// Invitations addressed to me.
    #[command(after_help = "Example:\n  guildhall invitation list")]
    List,
    /// Accept an invitation, with the token (or the whole link) from its mail.
    #[command(
        after_help = "Example:\n  guildhall invitation accept 'https://guildhall.example.com/invitations/accept?token=…'"
    )]
    Accept {
        /// The token, or the link that carries it.
        token: String,
    },
    /// Decline an invitation, with the token (or the whole link) from its mail.
    #[command(after_help = "Example:\n  guildhall invitation decline gldh_inv_…")]
    Decline {
        /// The token, or the link that carries it.
        token: String,
    },
}

/// `guildhall role …`.
#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Built-in and custom roles with their permissions.
    #[command(after_help = "Example:\n  guildhall role list --org acme")]
    List,
    /// Create a custom role.
    #[command(
        after_help = "Example:\n  guildhall role create accounting --permission billing.read,billing.manage"
    )]
    Create {
        /// Its name.
        name: String,
        /// A permission it grants (repeat, or separate with commas).
        #[arg(
            long = "permission",
            alias = "permissions",
            value_delimiter = ',',
            required = true
        )]
        permissions: Vec<String>,
    },
    /// Rename a custom role or replace its permissions.
    #[command(after_help = "Example:\n  guildhall role edit accounting --permission billing.read")]
    Edit {
        /// The role: name or id.
        role: String,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// Its permissions from now on (repeat, or separate with commas).
        #[arg(long = "permission", alias = "permissions", value_delimiter = ',')]
        permissions: Option<Vec<String>>,
    },
    /// Delete a custom role nobody holds.
    #[command(after_help = "Example:\n  guildhall role delete accounting --org acme")]
    Delete {
        /// The role: name or id.
        role: String,
    },
}

/// `guildhall group …`.
#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// The organization's groups.
    #[command(after_help = "Example:\n  guildhall group list --org acme")]
    List,
    /// Create a group.
    #[command(after_help = "Example:\n  guildhall group create backend --org acme")]
    Create {
        /// Its name.
        name: String,
    },
    /// A group with its members and projects.
    #[command(after_help = "Example:\n  guildhall group show backend --org acme")]
    Show {
        /// The group: name or id.
        group: String,
    },
    /// Delete a group.
    #[command(after_help = "Example:\n  guildhall group delete backend --org acme")]
    Delete {
        /// The group: name or id.
        group: String,
    },
    /// Put a member in a group.
    #[command(after_help = "Example:\n  guildhall group add-member backend ada@example.com")]
    AddMember {
        /// The group: name or id.
        group: String,
        /// The member: user id or email.
        user: String,
    },
    /// Take a member out of a group.
    #[command(after_help = "Example:\n  guildhall group remove-member backend ada@example.com")]
    RemoveMember {
        /// The group: name or id.
        group: String,
        /// The member: user id or email.
        user: String,
    },
    /// Give a group a project role on a project.
    #[command(after_help = "Example:\n  guildhall group grant backend api --role contributor")]
    Grant {
        /// The group: name or id.
        group: String,
        /// The project: name or id.
        project: String,
        /// `viewer`, `contributor` or `admin`.
        #[arg(long)]
        role: String,
    },
    /// Take a project away from a group.
    #[command(after_help = "Example:\n  guildhall group revoke backend api")]
    Revoke {
        /// The group: name or id.
        group: String,
        /// The project: name or id.
        project: String,
    },
}

/// `guildhall project …`.
#[derive(Subcommand, Debug)]
pub enum ProjectCommand {
    /// The projects I reach.
    #[command(after_help = "Example:\n  guildhall project list --org acme")]
    List,
    /// Create a project.
    #[command(after_help = "Example:\n  guildhall project create api --org acme")]
    Create {
        /// Its name, unique in the organization.
        name: String,
    },
    /// Show a project and my role on it.
    #[command(after_help = "Example:\n  guildhall project show api --org acme")]
    Show {
        /// The project: name or id.
        project: String,
    },
    /// Delete a project.
    #[command(after_help = "Example:\n  guildhall project delete api --org acme")]
    Delete {
        /// The project: name or id.
        project: String,
    },
    /// Show a project's plan, or change it with --tier, --storage, --environments, --licenses.
    #[command(
        after_help = "Examples:\n  guildhall project plan api\n  guildhall project plan api --tier pro --storage 50 --environments 3 --licenses 10"
    )]
    Plan {
        /// The project: name or id.
        project: String,
        /// The plan tier (see the server's plan catalog), e.g. `pro`.
        #[arg(long)]
        tier: Option<String>,
        /// Storage, in GB.
        #[arg(long)]
        storage: Option<i64>,
        /// Development environments.
        #[arg(long)]
        environments: Option<i64>,
        /// User licenses.
        #[arg(long)]
        licenses: Option<i64>,
    },
    /// Direct project roles of members.
    #[command(subcommand)]
    Member(ProjectMemberCommand),
}

/// `guildhall project member …`.
#[derive(Subcommand, Debug)]
pub enum ProjectMemberCommand {
    /// Give a member a direct role on a project.
    #[command(
        after_help = "Example:\n  guildhall project member set api ada@example.com --role admin"
    )]
    Set {
        /// The project: name or id.
        project: String,
        /// The member: user id or email.
        user: String,
        /// `viewer`, `contributor` or `admin`.
        #[arg(long)]
        role: String,
    },
    /// Take a member's direct role on a project away.
    #[command(after_help = "Example:\n  guildhall project member remove api ada@example.com")]
    Remove {
        /// The project: name or id.
        project: String,
        /// The member: user id or email.
        user: String,
    },
}

/// `guildhall transfer …`.
#[derive(Subcommand, Debug)]
pub enum TransferCommand {
    /// Offer ownership to an admin of the organization.
    #[command(after_help = "Example:\n  guildhall transfer offer ada@example.com --org acme")]
    Offer {
        /// The admin: user id or email.
        to: String,
    },
    /// Show the pending offer.
    #[command(after_help = "Example:\n  guildhall transfer show --org acme")]
    Show,
    /// Cancel the pending offer (the owner).
    #[command(after_help = "Example:\n  guildhall transfer cancel --org acme")]
    Cancel,
    /// Accept the offer made to me.
    #[command(after_help = "Example:\n  guildhall transfer accept --org acme")]
    Accept,
    /// Decline the offer made to me.
    #[command(after_help = "Example:\n  guildhall transfer decline --org acme")]
    Decline,
}

/// `guildhall billing …`.
#[derive(Subcommand, Debug)]
pub enum BillingCommand {
    /// The billing profile and the vouchers waiting for the next invoice.
    #[command(after_help = "Example:\n  guildhall billing show --org acme")]
    Show,
    /// Change the billing profile: flags left out keep their current value.
    #[command(
        after_help = "Example:\n  guildhall billing set --name \"Acme SAS\" --line1 \"1 rue de la Paix\" --postal-code 75002 \\\n    --city Paris --country FR --vat FR40303265045 --card visa,4242,12/2030"
    )]
    Set(Box<BillingSetArgs>),
}

/// `guildhall billing set`.
#[derive(Args, Debug)]
pub struct BillingSetArgs {
    /// The name invoices are made out to.
    #[arg(long)]
    pub name: Option<String>,
    /// The address's first line.
    #[arg(long)]
    pub line1: Option<String>,
    /// The address's second line (`""` clears it).
    #[arg(long)]
    pub line2: Option<String>,
    /// The postal code.
    #[arg(long)]
    pub postal_code: Option<String>,
    /// The city.
    #[arg(long)]
    pub city: Option<String>,
    /// The region or state (`""` clears it).
    #[arg(long)]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 country code, e.g. `FR`.
    #[arg(long)]
    pub country: Option<String>,
    /// The EU VAT number (`""` clears it).
    #[arg(long)]
    pub vat: Option<String>,
    /// The payment card: `BRAND,LAST4,MM/YYYY`, e.g. `visa,4242,12/2030` (never a full number).
    #[arg(long, conflicts_with = "no_card")]
    pub card: Option<String>,
    /// Remove the payment method.
    #[arg(long)]
    pub no_card: bool,
}

/// `guildhall invoice …`.
#[derive(Subcommand, Debug)]
pub enum InvoiceCommand {
    /// The organization's invoices.
    #[command(after_help = "Example:\n  guildhall invoice list --org acme")]
    List,
    /// One invoice with its lines; `upcoming` shows the current month so far.
    #[command(
        after_help = "Examples:\n  guildhall invoice show 0198…e1\n  guildhall invoice show upcoming"
    )]
    Show {
        /// The invoice's id, or `upcoming`.
        id: String,
    },
    /// Save an invoice's PDF.
    #[command(after_help = "Example:\n  guildhall invoice download 0198…e1 --file invoice.pdf")]
    Download {
        /// The invoice's id.
        id: String,
        /// Where to write it (`-`: standard output); default `invoice-NUMBER.pdf`.
        #[arg(long)]
        file: Option<String>,
    },
}

/// `guildhall voucher …`.
#[derive(Subcommand, Debug)]
pub enum VoucherCommand {
    /// Redeem a voucher code against the next invoice.
    #[command(after_help = "Example:\n  guildhall voucher redeem WELCOME-2026 --org acme")]
    Redeem {
        /// The code (case does not matter).
        code: String,
    },
}

/// `guildhall audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only events by this user: id or email.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action (`member.removed`) or family (`member.*`).
    #[arg(long)]
    pub action: Option<String>,
    /// Only events at or after this time: RFC 3339 or a day (`2026-12-01`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time, as --since.
    #[arg(long)]
    pub until: Option<String>,
    /// After the latest events, print new ones as they happen, until interrupted (Ctrl-C);
    /// with `--output json`, one JSON object a line.
    #[arg(long, conflicts_with = "until")]
    pub follow: bool,
    /// The organization (slug or id); defaults to GUILDHALL_ORG, then the one
    /// `guildhall org switch` chose.
    #[arg(long)]
    pub org: Option<String>,
    /// Output flags.
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `guildhall token …`.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create an API token; its secret is printed this once.
    #[command(
        after_help = "Example:\n  guildhall token create ci --org acme --permission projects.read,projects.deploy --expires 2026-12-31\n\nWith --quiet only the secret is printed: TOKEN=$(guildhall token create ci -q)"
    )]
    Create {
        /// A name to recognise it by.
        name: String,
        /// Limit it to these permissions (repeat, or separate with commas).
        #[arg(long = "permission", alias = "permissions", value_delimiter = ',')]
        permissions: Option<Vec<String>>,
        /// When it stops working: RFC 3339, or a day (`2026-12-31`, to its end, UTC).
        #[arg(long)]
        expires: Option<String>,
        /// Let it ask the check API (`guildhall check`). Only `--org` limits it to one
        /// organization (the one `org switch` chose does not).
        #[arg(long)]
        check: bool,
    },
    /// My API tokens (never their secrets).
    #[command(after_help = "Example:\n  guildhall token list")]
    List,
    /// Revoke an API token.
    #[command(after_help = "Example:\n  guildhall token revoke 0198…d0")]
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// `guildhall check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The user's id (or, with --org, their email).
    pub user: String,
    /// An organization permission (`members.invite`) or, with --project, a project one
    /// (`project.deploy`).
    pub permission: String,
    /// The organization (slug or id); defaults to GUILDHALL_ORG, then the one
    /// `guildhall org switch` chose.
    #[arg(long)]
    pub org: Option<String>,
    /// The project's id, for a project permission.
    #[arg(long, conflicts_with = "org")]
    pub project: Option<String>,
    /// Output flags.
    #[command(flatten)]
    pub out: OutputArgs,
}
