//! `prompt` and `max_age` of the authorization request (OIDC Core §3.1.2.1), per login
//! ([`LoginOptions`](crate::flow::LoginOptions)) or by configuration (`IDME_PROMPT`,
//! `IDME_MAX_AGE`).

use std::time::Duration;

use crate::ParseError;
use crate::config::{ConfigError, Rule};

/// The longest `max_age` accepted: a year.
pub(crate) const MAX_MAX_AGE: u64 = 366 * 24 * 3600;
const MAX_AGE_RULE: Rule = Rule::WholeSecondsUpTo { max: MAX_MAX_AGE };

/// A validated `prompt`: one or more of `login`, `consent`, `select_account`, or `none`
/// alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(Vec<&'static str>);

impl Prompt {
    /// `prompt=none`: no page at the provider; the login fails with `login_required` (or
    /// `consent_required`, …) when the person would have to do something.
    pub fn none() -> Self {
        Prompt(vec!["none"])
    }

    /// `prompt=login`: the provider asks the person to sign in again.
    pub fn login() -> Self {
        Prompt(vec!["login"])
    }

    /// `prompt=consent`: the provider asks for consent again.
    pub fn consent() -> Self {
        Prompt(vec!["consent"])
    }

    /// `prompt=select_account`: the provider lets the person choose an account.
    pub fn select_account() -> Self {
        Prompt(vec!["select_account"])
    }

    /// Whether `word` is part of the prompt.
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(&word)
    }

    /// Whether this is `prompt=none`.
    pub fn is_none(&self) -> bool {
        self.0 == ["none"]
    }

    /// With `offline_access` requested, OIDC Core §11 wants `consent` in the prompt: adds it
    /// (not to `none`, which forbids any page at the provider).
    pub(crate) fn for_scopes(prompt: Option<Prompt>, scopes: &[String]) -> Option<Prompt> {
        if !scopes.iter().any(|s| s == "offline_access") {
            return prompt;
        }
        match prompt {
            None => Some(Prompt::consent()),
            Some(p) if p.is_none() || p.contains("consent") => Some(p),
            Some(mut p) => {
                p.0.push("consent");
                Some(p)
            }
        }
    }
}

impl std::str::FromStr for Prompt {
    type Err = ParseError;

    /// Parses a space-separated prompt. Unknown words, repeated words, an empty value and
    /// `none` with any other word are refused, with the reason.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut words: Vec<&'static str> = Vec::new();
        for w in s.split_whitespace() {
            let w = match w {
                "none" => "none",
                "login" => "login",
                "consent" => "consent",
                "select_account" => "select_account",
                other => {
                    return Err(ParseError::new(
                        s,
                        format!(
                            "is invalid: {other:?} is not one of: none, login, consent, select_account"
                        ),
                    ));
                }
            };
            if words.contains(&w) {
                return Err(ParseError::new(s, format!("is invalid: {w} is repeated")));
            }
            words.push(w);
        }
        if words.is_empty() {
            return Err(ParseError::new(s, "is invalid: it is empty"));
        }
        if words.len() > 1 && words.contains(&"none") {
            return Err(ParseError::new(
                s,
                "is invalid: none cannot be combined with another value",
            ));
        }
        Ok(Prompt(words))
    }
}

/// The value sent to the provider (`login consent`).
impl std::fmt::Display for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// Parses a `max_age` in whole seconds (0 up to a year).
pub(crate) fn parse_max_age(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok().filter(|v| *v <= MAX_MAX_AGE)
}

/// The most `acr_values` one login may ask for, and the longest one.
const MAX_ACR_VALUES: usize = 8;
const MAX_ACR_LEN: usize = 256;

/// Reads a login's `acr_values` (space-separated authentication context classes, in order
/// of preference): at most 8, each at most 256 visible ASCII characters without quotes or
/// backslashes (they go into a `WWW-Authenticate` challenge). `None` when malformed.
pub(crate) fn parse_acr_values(s: &str) -> Option<String> {
    let values: Vec<&str> = s.split_whitespace().collect();
    let fine = |v: &&str| {
        v.len() <= MAX_ACR_LEN
            && v.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
    };
    (!values.is_empty() && values.len() <= MAX_ACR_VALUES && values.iter().all(fine))
        .then(|| values.join(" "))
}

/// Reads `IDME_PROMPT` and `IDME_MAX_AGE`; a malformed value is an error naming it.
pub(crate) fn from_lookup(
    lookup: &impl Fn(&str) -> Option<String>,
) -> Result<(Option<Prompt>, Option<Duration>), ConfigError> {
    let prompt = match lookup("IDME_PROMPT") {
        Some(p) => Some(p.parse::<Prompt>().map_err(|source| ConfigError::Env {
            var: "IDME_PROMPT",
            source,
        })?),
        None => None,
    };
    let max_age = match lookup("IDME_MAX_AGE") {
        Some(v) => Some(Duration::from_secs(parse_max_age(&v).ok_or_else(|| {
            ConfigError::invalid("IDME_MAX_AGE", v.as_str(), MAX_AGE_RULE)
        })?)),
        None => None,
    };
    Ok((prompt, max_age))
}

/// Checks a configured `max_age`.
pub(crate) fn check_max_age(max_age: Option<Duration>) -> Result<Option<u64>, ConfigError> {
    match max_age {
        Some(d) if d.as_secs() > MAX_MAX_AGE || d.subsec_nanos() != 0 => Err(ConfigError::invalid(
            "IDME_MAX_AGE",
            format!("{d:?}"),
            MAX_AGE_RULE,
        )),
        other => Ok(other.map(|d| d.as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_prompts_are_refused() {
        for bad in [
            "",
            "none login",
            "login login",
            "popup",
            "consent none",
            "LOGIN",
        ] {
            assert!(bad.parse::<Prompt>().is_err(), "{bad:?}");
        }
        let p = "login  consent".parse::<Prompt>().unwrap();
        assert_eq!(p.to_string(), "login consent");
        assert!("none".parse::<Prompt>().unwrap().is_none());
        assert_eq!(
            "select_account".parse::<Prompt>().unwrap(),
            Prompt::select_account()
        );
    }

    #[test]
    fn offline_access_adds_consent() {
        let scopes = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let with = scopes("openid offline_access");
        assert_eq!(Prompt::for_scopes(None, &with), Some(Prompt::consent()));
        assert_eq!(
            Prompt::for_scopes(Some(Prompt::login()), &with)
                .unwrap()
                .to_string(),
            "login consent"
        );
        assert_eq!(
            Prompt::for_scopes(Some(Prompt::none()), &with),
            Some(Prompt::none())
        );
        assert_eq!(Prompt::for_scopes(None, &scopes("openid")), None);
    }

    #[test]
    fn max_age_is_whole_bounded_seconds() {
        assert_eq!(parse_max_age("0"), Some(0));
        assert_eq!(parse_max_age("300"), Some(300));
        for bad in ["", "-1", "1.5", "abc", "99999999999", "31622401"] {
            assert_eq!(parse_max_age(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn env_values_are_named_when_malformed() {
        let e = from_lookup(&|k: &str| (k == "IDME_PROMPT").then(|| "none login".to_owned()))
            .unwrap_err();
        assert!(e.to_string().contains("IDME_PROMPT"), "{e}");
        let e =
            from_lookup(&|k: &str| (k == "IDME_MAX_AGE").then(|| "soon".to_owned())).unwrap_err();
        assert!(e.to_string().contains("IDME_MAX_AGE"), "{e}");
        let (p, m) = from_lookup(&|k: &str| match k {
            "IDME_PROMPT" => Some("login".into()),
            "IDME_MAX_AGE" => Some("600".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (p, m),
            (Some(Prompt::login()), Some(Duration::from_secs(600)))
        );
    }
}
