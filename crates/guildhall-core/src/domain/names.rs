//! Parsed names: raw strings become these at the edge and are trusted after that.
//!
//! Names compared case-insensitively carry a `key()`: trimmed, full-Unicode lowercase, stored in
//! its own column under a UNIQUE index (SQL `lower()` in SQLite folds only ASCII).

use super::error::FieldError;
use super::ids::UserId;
use serde::Serialize;

/// Longest organization, user and role name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest role name, in characters.
pub const MAX_ROLE_CHARS: usize = 64;
/// Longest slug, in characters.
pub const MAX_SLUG_CHARS: usize = 63;
/// Shortest password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password, in bytes: bounds the hashing work one request can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn clean_name(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(FieldError::new(
            field,
            format!("must be at most {max} characters, got {chars}"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An organization name (R1): trimmed, 1–100 characters, unique case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct OrgName(String);

impl OrgName {
    /// Trims and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        clean_name("name", raw, MAX_NAME_CHARS).map(OrgName)
    }

    /// The comparison key: lowercase, trimmed.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The name as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// R1, R2: the names the personal organization of the new account `user`, called `name`,
    /// may take, best first: `Sam (personal)`; then `Sam (personal, 3f9c2a1b)`, with the last 8
    /// hex digits of the account's id (random bits of a UUIDv7, where its first ones are the
    /// time, shared by everyone signing up in the same minute); then the whole id, which no
    /// other organization holds unless it was named after this account's fresh id. The display
    /// name is cut to leave room for the suffix. Names are unique server-wide (R1), so they are
    /// derived from the account rather than probed (`Sam (personal) 2`, `3`, …, which cost a
    /// query each and ran out at the thousandth Sam).
    pub fn personal(name: &DisplayName, user: UserId) -> Vec<OrgName> {
        let id = user.0.hyphenated().to_string();
        let short = &id[id.len() - 8..];
        [
            (String::new(), " (personal)".len()),
            (format!(", {short}"), " (personal, )".len() + short.len()),
            (format!(", {id}"), " (personal, )".len() + id.len()),
        ]
        .into_iter()
        .filter_map(|(suffix, room)| {
            let head = cut(name.as_str(), MAX_NAME_CHARS.saturating_sub(room));
            OrgName::parse(&format!("{head} (personal{suffix})")).ok()
        })
        .collect()
    }
}

/// The first `max` characters of `s`, without trailing whitespace.
fn cut(s: &str, max: usize) -> String {
    let head: String = s.chars().take(max).collect();
    head.trim_end().to_owned()
}

/// A project's or group's name: trimmed, 1–100 characters, unique within its organization,
/// case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LocalName(String);

impl LocalName {
    /// Trims and checks `raw`. Never a UUID, so `{project}` and `{group}` in paths are never
    /// ambiguous.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = clean_name("name", raw, MAX_NAME_CHARS)?;
        if uuid::Uuid::parse_str(&name).is_ok() {
            return Err(FieldError::new("name", "must not look like an id"));
        }
        Ok(LocalName(name))
    }

    /// The comparison key: lowercase.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The name as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: trimmed, 1–100 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trims and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        clean_name("name", raw, MAX_NAME_CHARS).map(DisplayName)
    }

    /// The name as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL-safe organization slug: lowercase ASCII letters, digits and inner hyphens, never a UUID
/// (so `{org}` in a path is never ambiguous).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// Checks `raw` as given; slugs are not folded, so `Acme` is refused rather than guessed.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let reason = if raw.is_empty() {
            Some("must not be empty".to_owned())
        } else if raw.len() > MAX_SLUG_CHARS {
            Some(format!("must be at most {MAX_SLUG_CHARS} characters"))
        } else if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || raw.starts_with('-')
            || raw.ends_with('-')
        {
            Some(
                "may hold only lowercase letters, digits and inner hyphens, e.g. `acme-cloud`"
                    .to_owned(),
            )
        } else if uuid::Uuid::parse_str(raw).is_ok() {
            Some("must not look like an id".to_owned())
        } else {
            None
        };
        match reason {
            Some(r) => Err(FieldError::new("slug", r)),
            None => Ok(Slug(raw.to_owned())),
        }
    }

    /// Derives a slug from a name: transliterated to ASCII (`Société` -> `societe`, `東京` ->
    /// `dong-jing`), then letters and digits kept and every run of anything else one hyphen.
    /// Falls back to `org` when nothing usable is left.
    pub fn derive(name: &str) -> Slug {
        let mut out = String::new();
        let ascii = deunicode::deunicode_with_tofu(name, "-");
        for c in ascii.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.ends_with('-') && !out.is_empty() {
                out.push('-');
            }
            if out.len() >= MAX_SLUG_CHARS - 8 {
                break;
            }
        }
        let out = out.trim_end_matches('-');
        Slug(if out.is_empty() {
            "org".to_owned()
        } else {
            out.to_owned()
        })
    }

    /// R1: the slugs an organization whose derived slug is this one may take, best first: this
    /// one, then it with the last 8 hex digits of `id` (random bits of a UUIDv7: the id of the
    /// new organization, or of the account a personal one is made for), then with all 32. Each
    /// is cut to fit. Deriving them from a fresh id bounds the search to three reads, where
    /// probing `acme-2`, `acme-3`, … cost a query each and ran out at `acme-999`.
    pub fn candidates(&self, id: uuid::Uuid) -> Vec<Slug> {
        let hex = id.simple().to_string();
        let short = &hex[hex.len() - 8..];
        let suffixed = |suffix: &str| {
            let room = MAX_SLUG_CHARS.saturating_sub(suffix.len() + 1);
            let head: String = self.0.chars().take(room).collect();
            Slug::parse(&format!("{}-{suffix}", head.trim_end_matches('-'))).ok()
        };
        std::iter::once(Some(self.clone()))
            .chain([suffixed(short), suffixed(&hex)])
            .flatten()
            .collect()
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, unique case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Trims and checks `raw` (RFC 5322 address syntax, at most 254 characters, a dotted domain).
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let valid = trimmed.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                trimmed,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|a| a.domain().contains('.') && !a.domain().starts_with('['));
        if valid {
            Ok(Email(trimmed.to_owned()))
        } else {
            Err(FieldError::new(
                "email",
                "must be an email address such as `ada@example.com`",
            ))
        }
    }

    /// The comparison key: lowercase.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The address as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A custom role's name: 1–64 characters of letters, digits, spaces, `-`, `_` and `.`, never a
/// built-in role's name; unique per organization, case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RoleName(String);

impl RoleName {
    /// Trims and checks `raw`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = clean_name("name", raw, MAX_ROLE_CHARS)?;
        if !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        {
            return Err(FieldError::new(
                "name",
                "may hold only letters, digits, spaces, `-`, `_` and `.`",
            ));
        }
        if super::permission::BuiltinRole::parse(&name).is_some() {
            return Err(FieldError::new(
                "name",
                format!("`{name}` is a built-in role"),
            ));
        }
        Ok(RoleName(name))
    }

    /// The comparison key: lowercase.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// The name as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 characters to 1 KiB. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks length only: composition rules do not make passwords stronger (NIST SP 800-63B).
    pub fn parse(raw: String) -> Result<Self, FieldError> {
        if raw.chars().count() < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if raw.len() > MAX_PASSWORD_BYTES {
            return Err(FieldError::new(
                "password",
                format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Password(raw))
    }

    /// The secret, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(hex: &str) -> UserId {
        UserId(uuid::Uuid::parse_str(hex).expect("uuid"))
    }

    #[test]
    fn r2_personal_org_names_come_from_the_account_and_fit() {
        let sam = DisplayName::parse("Sam").expect("name");
        let id = user("0190c0de-0000-7000-8000-00003f9c2a1b");
        let names: Vec<String> = OrgName::personal(&sam, id)
            .iter()
            .map(|n| n.as_str().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "Sam (personal)",
                "Sam (personal, 3f9c2a1b)",
                "Sam (personal, 0190c0de-0000-7000-8000-00003f9c2a1b)"
            ]
        );
        // A name of the longest length keeps its suffix: the name is cut, not the suffix.
        let long = DisplayName::parse(&"é".repeat(MAX_NAME_CHARS)).expect("name");
        let names = OrgName::personal(&long, id);
        assert_eq!(names.len(), 3);
        for n in &names {
            assert!(
                n.as_str().chars().count() <= MAX_NAME_CHARS,
                "{}",
                n.as_str()
            );
            assert!(n.as_str().ends_with(')'), "{}", n.as_str());
        }
        assert!(
            names[2]
                .as_str()
                .ends_with("0190c0de-0000-7000-8000-00003f9c2a1b)")
        );
        // Two accounts made in the same millisecond differ in their short suffix.
        let other = user("0190c0de-0000-7000-8000-0000aa55aa55");
        assert_ne!(
            OrgName::personal(&sam, other)[1],
            OrgName::personal(&sam, id)[1]
        );
    }

    #[test]
    fn r1_slug_candidates_carry_the_id_and_fit() {
        let id = uuid::Uuid::parse_str("0190c0de-0000-7000-8000-00003f9c2a1b").expect("uuid");
        let slugs: Vec<String> = Slug::derive("sam")
            .candidates(id)
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        assert_eq!(
            slugs,
            [
                "sam",
                "sam-3f9c2a1b",
                "sam-0190c0de00007000800000003f9c2a1b"
            ]
        );
        let long = Slug::derive(&"ab-".repeat(40));
        let slugs = long.candidates(id);
        assert_eq!(slugs.len(), 3);
        for s in &slugs {
            assert!(Slug::parse(s.as_str()).is_ok(), "{}", s.as_str());
        }
        assert!(
            slugs[2]
                .as_str()
                .ends_with("-0190c0de00007000800000003f9c2a1b")
        );
    }

    #[test]
    fn r1_org_names_compare_trimmed_and_case_insensitively() {
        let a = OrgName::parse("  Ärger GmbH ").expect("valid");
        let b = OrgName::parse("ärger gmbh").expect("valid");
        assert_eq!(a.as_str(), "Ärger GmbH");
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn r14_names_refuse_empty_and_too_long() {
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse(&"x".repeat(5000)).is_err());
        assert!(OrgName::parse(&"é".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn slugs_are_url_safe_and_never_ids() {
        assert!(Slug::parse("acme-cloud").is_ok());
        assert!(Slug::parse("Acme").is_err());
        assert!(Slug::parse("-acme").is_err());
        assert!(Slug::parse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").is_err());
        assert_eq!(Slug::derive("Ärger & Co. GmbH").as_str(), "arger-co-gmbh");
        assert_eq!(
            Slug::derive("Société Générale Cloud").as_str(),
            "societe-generale-cloud"
        );
        assert_eq!(Slug::derive("Łódź Straße").as_str(), "lodz-strasse");
        for other_script in ["東京クラウド", "Москва Облако", "Αθήνα", "مرحبا"]
        {
            let slug = Slug::derive(other_script);
            assert!(
                Slug::parse(slug.as_str()).is_ok(),
                "{other_script}: {slug:?}"
            );
            assert!(
                slug.as_str()
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .count()
                    >= 3,
                "{other_script}: {slug:?}"
            );
        }
        assert_eq!(Slug::derive("Москва").as_str(), "moskva");
        assert_eq!(Slug::derive("!!!").as_str(), "org");
        assert!(Slug::parse(Slug::derive(&"Long name ".repeat(30)).as_str()).is_ok());
    }

    #[test]
    fn emails_are_checked_and_keyed_lowercase() {
        let e = Email::parse(" Ada@Example.COM ").expect("valid");
        assert_eq!(e.key(), "ada@example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn role_names_never_shadow_built_in_roles() {
        assert!(RoleName::parse("Admin").is_err());
        assert!(RoleName::parse("Manage Plans").is_ok());
        assert!(RoleName::parse("a/b").is_err());
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("correct horse".to_owned()).expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::parse("short".to_owned()).is_err());
    }
}
