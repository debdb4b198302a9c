//! Small helpers shared by the modules: randomness, time, hashing, escaping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// `n` random bytes, hex encoded (2n characters).
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(bytes.as_mut_slice());
    hex::encode(bytes)
}

/// An unguessable opaque value (256 bits, base64url without padding) for codes and tokens.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The emulator's clock, moved ahead by [`advance`](Self::advance) (tests only). Clones
/// share one clock. A served emulator's follows the system clock; a
/// [stopped](Self::stopped) one (a [`Pair`](crate::pair::Pair)'s) stands still until
/// advanced.
#[derive(Debug, Clone, Default)]
pub(crate) struct SimClock(Arc<ClockState>);

#[derive(Debug, Default)]
struct ClockState {
    /// Where a stopped clock stands (Unix seconds, and the instant read when it stopped);
    /// `None` for one following the system clock.
    stopped: Option<(i64, Instant)>,
    /// Seconds moved ahead by `advance`.
    offset: AtomicU64,
}

impl SimClock {
    /// A clock standing at the system time of its creation, moving only when advanced.
    #[cfg(feature = "pair")]
    pub(crate) fn stopped() -> Self {
        Self(Arc::new(ClockState {
            stopped: Some((now_secs(), Instant::now())),
            offset: AtomicU64::new(0),
        }))
    }

    /// Seconds since the Unix epoch, by this clock.
    pub(crate) fn secs(&self) -> i64 {
        let base = self.0.stopped.map_or_else(now_secs, |(secs, _)| secs);
        base.saturating_add(i64::try_from(self.offset()).unwrap_or(i64::MAX))
    }

    /// The monotonic time, by this clock.
    pub(crate) fn instant(&self) -> Instant {
        let base = self.0.stopped.map_or_else(Instant::now, |(_, at)| at);
        base + Duration::from_secs(self.offset())
    }

    /// Moves the clock ahead by `by` (whole seconds).
    pub(crate) fn advance(&self, by: Duration) {
        self.0.offset.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    fn offset(&self) -> u64 {
        self.0.offset.load(Ordering::SeqCst)
    }
}

/// OpenID Connect Core's half hash (`at_hash`, `c_hash`) for RS256: base64url of the left half of SHA-256.
pub(crate) fn half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier))).
pub(crate) fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Whether `value` is a syntactically valid PKCE verifier or challenge (RFC 7636 §4.1: 43 to 128 characters
/// from the unreserved set).
pub(crate) fn is_pkce_string(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
