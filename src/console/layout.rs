//! The page shell every console page shares (header, organization switcher, navigation, the
//! message of the last change), form pieces, and the headers of a page.

use super::session::Ctx;
use crate::domain::permission::{PermSet, Permission};
use axum::http::{HeaderMap, HeaderValue, header};
use maud::{DOCTYPE, Markup, html};

/// What surrounds a page's body.
pub struct Shell<'a> {
    /// The page's title, before ` · Guildhall`.
    pub title: &'a str,
    /// The organization the page is about: switcher and navigation.
    pub org: Option<OrgNav<'a>>,
}

impl<'a> Shell<'a> {
    /// A page outside any organization.
    pub fn plain(title: &'a str) -> Self {
        Shell { title, org: None }
    }
}

/// An organization page's navigation: where I am and what my permissions open.
pub struct OrgNav<'a> {
    /// The organization's slug.
    pub slug: &'a str,
    /// Its name.
    pub name: &'a str,
    /// What I may do there.
    pub permissions: PermSet,
    /// My organizations for the switcher, personal first: (slug, name).
    pub mine: Vec<(String, String)>,
    /// Which tab is open.
    pub tab: Tab,
}

/// The tabs of an organization.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// `/orgs/{slug}/projects`.
    Projects,
    /// `/orgs/{slug}/members`.
    Members,
    /// `/orgs/{slug}/invitations`.
    Invitations,
    /// `/orgs/{slug}/roles`.
    Roles,
    /// `/orgs/{slug}/billing`.
    Billing,
    /// `/orgs/{slug}/groups`.
    Groups,
    /// `/orgs/{slug}/audit`.
    Audit,
    /// `/orgs/{slug}/transfer`.
    Transfer,
    /// `/orgs/{slug}/settings`.
    Settings,
}

/// The whole document.
pub fn render(ctx: &Ctx, shell: Shell<'_>, body: Markup) -> Markup {
    let flash = ctx.flash_text();
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (shell.title) " · Guildhall" }
                link rel="stylesheet" href="/console/style.css";
                script src="/console/script.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "Guildhall" }
                    @if let Some(org) = &shell.org {
                        (switcher(org))
                    }
                    @if let Some(user) = &ctx.user {
                        nav.account aria-label="Account" {
                            a href="/orgs" { "Organizations" }
                            a href="/invitations" { "Invitations" }
                            a href="/tokens" { "API tokens" }
                            span.who { (user.user.name) }
                            form method="post" action="/signout" {
                                (csrf(ctx))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    } @else {
                        nav.account aria-label="Account" {
                            a href="/signin" { "Sign in" }
                            a href="/signup" { "Sign up" }
                        }
                    }
                }
                @if let Some(org) = &shell.org {
                    (org_nav(org))
                }
                main #main {
                    @if let Some(message) = flash {
                        p.flash role="status" { (message) }
                    }
                    (body)
                }
            }
        }
    }
}

fn switcher(org: &OrgNav<'_>) -> Markup {
    html! {
        details.switcher {
            summary { span.visually-hidden { "Organization: " } (org.name) }
            ul {
                @for (slug, name) in &org.mine {
                    li {
                        a href={ "/orgs/" (slug) } aria-current=[(slug == org.slug).then_some("page")] { (name) }
                    }
                }
            }
        }
    }
}

fn org_nav(org: &OrgNav<'_>) -> Markup {
    let p = &org.permissions;
    let tabs = [
        (Tab::Projects, "projects", "Projects", true),
        (
            Tab::Members,
            "members",
            "Members",
            p.contains(Permission::MembersRead),
        ),
        (
            Tab::Invitations,
            "invitations",
            "Invitations",
            p.contains(Permission::MembersInvite),
        ),
        (
            Tab::Groups,
            "groups",
            "Groups",
            p.contains(Permission::MembersRead),
        ),
        (
            Tab::Roles,
            "roles",
            "Roles",
            p.contains(Permission::RolesManage) || p.contains(Permission::MembersRead),
        ),
        (
            Tab::Billing,
            "billing",
            "Billing",
            p.contains(Permission::BillingRead),
        ),
        (
            Tab::Audit,
            "audit",
            "Audit",
            p.contains(Permission::AuditRead),
        ),
        (
            Tab::Settings,
            "settings",
            "Settings",
            p.contains(Permission::OrgUpdate) || p.contains(Permission::OrgDelete),
        ),
    ];
    html! {
        nav.org aria-label="Organization" {
            @for (tab, path, label, open) in tabs {
                @if open {
                    a href={ "/orgs/" (org.slug) "/" (path) } aria-current=[(tab == org.tab).then_some("page")] { (label) }
                }
            }
        }
    }
}

/// A "Rename" panel: one Name field posting to `action`, the refusal next to it (a project's
/// and a group's page).
pub fn rename_panel(ctx: &Ctx, action: &str, name: &str, error: Option<&super::Refusal>) -> Markup {
    html! {
        section.panel aria-labelledby="rename-title" {
            h2 #rename-title { "Rename" }
            (form_error(error.and_then(|r| r.general(&["name"]))))
            form.inline method="post" action=(action) {
                (csrf(ctx))
                (field("Name", "name", "text", name, error.and_then(|r| r.on("name"))))
                button type="submit" { "Rename" }
            }
        }
    }
}

/// The hidden CSRF field every state-changing form carries.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// A labelled input with its error, if any, next to it.
pub fn field(label: &str, name: &str, kind: &str, value: &str, error: Option<&str>) -> Markup {
    input(label, name, kind, value, error, true)
}

/// A labelled input that may be left empty.
pub fn optional_field(
    label: &str,
    name: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
) -> Markup {
    input(label, name, kind, value, error, false)
}

fn input(
    label: &str,
    name: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    required: bool,
) -> Markup {
    let id = format!("f-{}", name.replace('.', "-"));
    let err_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) type=(kind) name=(name) value=(value)
                autocomplete=(autocomplete(name, kind))
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| err_id.as_str())]
                required[required];
            @if let Some(e) = error {
                p.error #(err_id) { (e) }
            }
        }
    }
}

fn autocomplete(name: &str, kind: &str) -> &'static str {
    match (name, kind) {
        ("email", _) => "email",
        ("password", _) => "current-password",
        ("new_password", _) => "new-password",
        ("name", _) => "name",
        ("address.line1", _) => "address-line1",
        ("address.line2", _) => "address-line2",
        ("address.postal_code", _) => "postal-code",
        ("address.city", _) => "address-level2",
        ("address.region", _) => "address-level1",
        ("address.country", _) => "country",
        _ => "off",
    }
}

/// A form-level error (one that concerns no single field).
pub fn form_error(error: Option<&str>) -> Markup {
    html! {
        @if let Some(e) = error {
            p.error role="alert" { (e) }
        }
    }
}

/// Headers of every console page: its own content security policy (only this server's
/// stylesheet and script) instead of the API's.
pub fn page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// `s` for a query string.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Undoes [`urlencode`] (and `+` for a space); invalid escapes stay as they are.
pub fn urldecode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flash_messages_survive_the_cookie_round_trip() {
        for s in ["Organization “Société” created.", "a+b = 100%", "", "%zz"] {
            assert_eq!(urldecode(&urlencode(s)), s);
        }
        assert_eq!(urldecode("a%2"), "a%2");
    }
}
