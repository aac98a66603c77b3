//! Choosing a password: the rule every place that sets one calls, once, with the account it is
//! for (sign-up, a set-password or reset link, accepting an invitation as a new user). The
//! service runs it through `secret::PasswordHasher::choose`, on the blocking pool under the
//! hashing bound: the estimate is pure but not free (see [`ESTIMATED_CHARS`]).
//!
//! ASVS 5.0 6.2.4 and NIST SP 800-63B 3.1.1.2: a new password is checked against commonly used
//! and guessable ones, and against the account's own email and name, and refused with why. Length
//! stays the only composition rule ([`Password::parse`]: 8 characters to 1 KiB), and it is
//! checked first, so the estimator never sees unbounded input.
//!
//! The estimate is zxcvbn's (Dropbox's estimator, in its Rust port): dictionaries of the 30,000
//! most used passwords, English words, names and surnames, with keyboard patterns, repeats,
//! sequences, dates and l33t substitutions, scored as the number of guesses an attacker needs.
//! A passphrase of a few ordinary words (`correct horse battery staple`) scores high; `password`,
//! `12345678`, `qwertyuiop` and eight spaces score 0.

use super::error::DomainError;
use super::names::{MIN_PASSWORD_CHARS, Password};
use unicode_normalization::UnicodeNormalization as _;

/// The lowest zxcvbn score accepted (0–4): 3 is "safely unguessable", about 10^8 guesses or more,
/// which holds against online guessing and slows an offline attack on an argon2id hash to years.
pub const MIN_SCORE: u8 = 3;

/// How many characters of a password the estimator reads. zxcvbn's matching grows with the
/// square of the length; it cuts at 100 characters itself, and so does this, so the bound does
/// not depend on the library's version. A password longer than this is judged by its start.
/// Even so, a string made of many different l33t characters (`4@8({[<36#!1|…`) costs it
/// hundreds of milliseconds, as long as an argon2 hash.
pub const ESTIMATED_CHARS: usize = 100;

/// Personal words shorter than this are not looked for inside a password (`Al`, `Bo`: too many
/// passwords contain them by chance).
const MIN_PERSONAL_CHARS: usize = 3;

/// Why a password is refused: what the estimator recognised in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakness {
    /// The account's email or name, or little else.
    Personal,
    /// One of the most used passwords.
    Common,
    /// A much used password with a capital, a digit or a substitution added.
    CommonVariant,
    /// A row or pattern of keys (`qwertyuiop`, `zxcvbn`).
    Keyboard,
    /// A repeated character or pattern (`aaaaaaaa`, `abcabcabc`, eight spaces).
    Repeat,
    /// A sequence (`abcdefgh`, `98765432`).
    Sequence,
    /// A date or a recent year.
    Date,
    /// A single dictionary word.
    Word,
    /// A common name or surname.
    Name,
    /// Nothing in particular, but few words or patterns and too short to make up for it.
    Guessable,
}

impl Weakness {
    /// What was recognised, as the end of "this password …".
    pub fn why(self) -> &'static str {
        match self {
            Weakness::Personal => "is or contains your email address or name",
            Weakness::Common => "is one of the most used passwords",
            Weakness::CommonVariant => "is a much used password with small changes",
            Weakness::Keyboard => "is a pattern of neighbouring keys",
            Weakness::Repeat => "repeats a character or a short pattern",
            Weakness::Sequence => "is a sequence such as `abcd` or `1234`",
            Weakness::Date => "is mostly a date or a year",
            Weakness::Word => "is a single common word",
            Weakness::Name => "is mostly a common name",
            Weakness::Guessable => "is made of too few and too common words or patterns",
        }
    }

    fn of(warning: Option<zxcvbn::feedback::Warning>) -> Weakness {
        use zxcvbn::feedback::Warning as W;
        match warning {
            Some(W::ThisIsATop10Password | W::ThisIsATop100Password | W::ThisIsACommonPassword) => {
                Weakness::Common
            }
            Some(W::ThisIsSimilarToACommonlyUsedPassword) => Weakness::CommonVariant,
            Some(W::StraightRowsOfKeysAreEasyToGuess | W::ShortKeyboardPatternsAreEasyToGuess) => {
                Weakness::Keyboard
            }
            Some(
                W::RepeatsLikeAaaAreEasyToGuess | W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess,
            ) => Weakness::Repeat,
            Some(W::SequencesLikeAbcAreEasyToGuess) => Weakness::Sequence,
            Some(W::RecentYearsAreEasyToGuess | W::DatesAreOftenEasyToGuess) => Weakness::Date,
            Some(W::AWordByItselfIsEasyToGuess) => Weakness::Word,
            Some(
                W::NamesAndSurnamesByThemselvesAreEasyToGuess
                | W::CommonNamesAndSurnamesAreEasyToGuess,
            ) => Weakness::Name,
            None => Weakness::Guessable,
        }
    }
}

/// A password that passed the rule for the account it is chosen for: the only kind the hasher
/// takes, so no path can set a password without the check. Its `Debug` never shows it.
#[derive(Clone)]
pub struct NewPassword(Password);

impl NewPassword {
    /// ASVS 6.2.4: accepts `password` as the new password of the account with `email` and
    /// display name `name`, or says why not (`DomainError::WeakPassword`). Refused: the email,
    /// its local part or the name, or any of them with fewer than 8 other letters and digits
    /// around it; and whatever zxcvbn scores below [`MIN_SCORE`], with the email and name as
    /// the user's own words.
    pub fn choose(password: Password, email: &str, name: &str) -> Result<NewPassword, DomainError> {
        let personal = personal_words(email, name);
        if mostly_personal(password.expose(), &personal) {
            return Err(DomainError::WeakPassword(Weakness::Personal));
        }
        let start: String = password.expose().chars().take(ESTIMATED_CHARS).collect();
        let inputs: Vec<&str> = personal.iter().map(String::as_str).collect();
        let estimate = zxcvbn::zxcvbn(&start, &inputs);
        if u8::from(estimate.score()) >= MIN_SCORE {
            return Ok(NewPassword(password));
        }
        // A dictionary word of the guess that is one of the account's own: say so, rather
        // than what else the estimator found.
        let personal_match = estimate.sequence().iter().any(|m| {
            matches!(
                &m.pattern,
                zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
                    if personal.contains(&d.matched_word)
            )
        });
        Err(DomainError::WeakPassword(if personal_match {
            Weakness::Personal
        } else {
            Weakness::of(estimate.feedback().and_then(|f| f.warning()))
        }))
    }

    /// The secret, for the hasher only.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// Folded for comparison: case-folded and NFKC, so `ADA`, `ada` and fullwidth `ａｄａ` are one.
fn fold(s: &str) -> String {
    caseless::default_case_fold_str(s).nfkc().collect()
}

/// The account's own words, folded, longest first: the email, its local part and the pieces of
/// it between dots, dashes, underscores and pluses, the name and its words.
fn personal_words(email: &str, name: &str) -> Vec<String> {
    let email = fold(email.trim());
    let name = fold(name.trim());
    let local = email.rsplit_once('@').map_or(email.as_str(), |(l, _)| l);
    let mut words: Vec<String> = vec![email.clone(), local.to_owned(), name.clone()];
    words.extend(local.split(['.', '-', '_', '+']).map(str::to_owned));
    words.extend(name.split_whitespace().map(str::to_owned));
    words.retain(|w| w.chars().count() >= MIN_PERSONAL_CHARS);
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words.dedup();
    words
}

/// Whether `password` is one of the account's own words, or one with fewer than
/// [`MIN_PASSWORD_CHARS`] letters and digits of anything else around it (`ada.lovelace1815!`).
fn mostly_personal(password: &str, personal: &[String]) -> bool {
    let mut rest = fold(password);
    let mut found = false;
    for word in personal {
        if rest.contains(word.as_str()) {
            rest = rest.replace(word.as_str(), " ");
            found = true;
        }
    }
    found && rest.chars().filter(|c| c.is_alphanumeric()).count() < MIN_PASSWORD_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(password: &str, email: &str, name: &str) -> Result<NewPassword, Weakness> {
        let parsed = Password::parse(password.to_owned()).expect("long enough");
        NewPassword::choose(parsed, email, name).map_err(|e| match e {
            DomainError::WeakPassword(w) => w,
            other => panic!("{other}"),
        })
    }

    #[test]
    fn common_and_guessable_passwords_are_refused_with_why() {
        let cases = [
            ("password", Weakness::Common),
            ("12345678", Weakness::Common),
            ("qwertyuiop", Weakness::Common),
            ("        ", Weakness::Repeat),
            ("aaaaaaaaaaaa", Weakness::Repeat),
            ("abcdefghij", Weakness::Sequence),
            ("Password1!", Weakness::CommonVariant),
            ("P@ssw0rd2024", Weakness::CommonVariant),
        ];
        for (password, why) in cases {
            assert_eq!(
                choose(password, "ada@example.com", "Ada").err(),
                Some(why),
                "{password:?}"
            );
        }
    }

    #[test]
    fn the_accounts_own_email_and_name_are_refused() {
        let (email, name) = ("ada.lovelace@example.com", "Ada Lovelace");
        for password in [
            "ada.lovelace@example.com",
            "ADA.LOVELACE@EXAMPLE.COM",
            "Ada Lovelace",
            "adalovelace",
            "ada.lovelace",
            "lovelace1815!",
            "ａｄａ．ｌｏｖｅｌａｃｅ",
        ] {
            assert_eq!(
                choose(password, email, name).err(),
                Some(Weakness::Personal),
                "{password:?}"
            );
        }
    }

    #[test]
    fn passphrases_are_accepted_even_beside_a_personal_word() {
        for (password, email, name) in [
            ("correct horse battery staple", "ada@example.com", "Ada"),
            // The README's quick start.
            ("correct horse", "ada@example.com", "Ada"),
            ("a very secret passphrase", "ada@example.com", "Ada"),
            ("bob's new password", "bob@example.com", "Bob"),
            (
                "ada likes correct horse battery staple",
                "ada@example.com",
                "Ada",
            ),
        ] {
            assert!(choose(password, email, name).is_ok(), "{password:?}");
        }
    }

    #[test]
    fn only_the_start_of_a_long_password_is_estimated() {
        // 1 KiB: judged by its first 100 characters, quickly.
        let strong: String = "correct horse battery staple ".repeat(35);
        let strong: String = strong.chars().take(1024).collect();
        assert!(choose(&strong, "ada@example.com", "Ada").is_ok());
        let weak = format!("{}{}", "a".repeat(ESTIMATED_CHARS), "Zq9!x#Lm2@".repeat(90));
        assert_eq!(
            choose(&weak, "ada@example.com", "Ada").err(),
            Some(Weakness::Repeat)
        );
    }

    #[test]
    fn every_weakness_says_why_in_a_few_words() {
        for w in [
            Weakness::Personal,
            Weakness::Common,
            Weakness::CommonVariant,
            Weakness::Keyboard,
            Weakness::Repeat,
            Weakness::Sequence,
            Weakness::Date,
            Weakness::Word,
            Weakness::Name,
            Weakness::Guessable,
        ] {
            let why = w.why();
            assert!(why.split_whitespace().count() >= 4, "{w:?}: {why}");
            assert!(!why.ends_with('.'), "{w:?}");
        }
    }

    #[test]
    fn new_password_debug_never_shows_the_secret() {
        let p = choose("correct horse battery staple", "ada@example.com", "Ada").expect("ok");
        assert!(!format!("{p:?}").contains("horse"));
    }
}
