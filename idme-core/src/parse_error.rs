//! [`ParseError`]: a setting's text that is not one of the accepted values, as the
//! [`FromStr`](std::str::FromStr) impls of the configuration enums return it.

/// A value that does not parse as the setting it was given for: names the value and what
/// was expected, so the message can be shown as it is.
///
/// ```
/// use idme_core::ResponseType;
/// let err = "code idtoken".parse::<ResponseType>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "\"code idtoken\" is not one of: code, id_token, code id_token, code token, \
///      id_token token, code id_token token, token"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} {reason}")]
pub struct ParseError {
    value: String,
    reason: String,
}

impl ParseError {
    /// `value` is not one of `expected` (a comma-separated list).
    pub(crate) fn not_one_of(value: &str, expected: &str) -> Self {
        Self::new(value, format!("is not one of: {expected}"))
    }

    /// `value` is refused for `reason` (a phrase that follows the quoted value).
    pub(crate) fn new(value: &str, reason: impl Into<String>) -> Self {
        // Bounded: a value from the environment or a query could be long.
        let value = value.chars().take(64).collect();
        Self {
            value,
            reason: reason.into(),
        }
    }

    /// The refused value (its first 64 characters).
    pub fn value(&self) -> &str {
        &self.value
    }
}
