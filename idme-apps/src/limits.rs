//! Fixed-window counters per key (a person, a person and a client, an address), in
//! bounded memory: the check and the count are one step under one lock, so concurrent
//! requests cannot all pass a check before any of them is counted.
//!
//! A full table first forgets windows that ended, then keys still under their limit
//! (their counts restart: a small leak in their favour); keys at their limit are kept. A
//! table full of keys at their limit refuses new keys until windows end: that takes as
//! many distinct offending parties (signed-in people, networks) as the table holds.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// The key of a counter: 128 bits of SHA-256, so any key costs the same memory.
pub(crate) type Key = [u8; 16];

/// The key of `parts` (each length-prefixed, so `("ab", "c")` and `("a", "bc")` differ).
pub(crate) fn key(parts: &[&str]) -> Key {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let mut out = [0; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// The key of the party behind `addr`: an IPv4 address, or the /64 network of an IPv6
/// one (a single party holds a whole /64; an IPv4-mapped address counts as IPv4).
pub(crate) fn address_key(addr: IpAddr) -> Key {
    let mut out = [0; 16];
    match addr {
        IpAddr::V4(v4) => {
            out[0] = 4;
            out[1..5].copy_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                out[0] = 4;
                out[1..5].copy_from_slice(&v4.octets());
            }
            None => {
                out[0] = 6;
                out[8..].copy_from_slice(&v6.octets()[..8]);
            }
        },
    }
    out
}

/// Counters of at most `limit` hits per key per `window` seconds, for at most `cap` keys.
#[derive(Debug)]
pub(crate) struct Windows {
    limit: u32,
    window: u64,
    cap: usize,
    /// Key → (window start, hits counted).
    map: Mutex<HashMap<Key, (u64, u32)>>,
}

impl Windows {
    /// At most `limit` hits per key per `window` seconds, `cap` keys tracked at most.
    pub(crate) fn new(limit: u32, window: u64, cap: usize) -> Self {
        Self {
            limit,
            window,
            cap,
            map: Mutex::default(),
        }
    }

    /// Counts a hit of `key` at `now` if it is within the limit: `Ok` (counted), or
    /// `Err(seconds)` until the key's window ends (not counted).
    pub(crate) fn hit(&self, key: &Key, now: u64) -> Result<(), u64> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(key) && map.len() >= self.cap {
            let (window, limit) = (self.window, self.limit);
            map.retain(|_, (start, _)| *start + window > now);
            if map.len() >= self.cap {
                map.retain(|_, (_, n)| *n >= limit);
            }
            if map.len() >= self.cap {
                let soonest = map.values().map(|(start, _)| *start).min().unwrap_or(now);
                return Err((soonest + window).saturating_sub(now).max(1));
            }
        }
        let entry = map.entry(*key).or_insert((now, 0));
        if entry.0 + self.window <= now {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err((entry.0 + self.window).saturating_sub(now).max(1));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Gives back a hit of `key` counted in the current window (it turned out not to
    /// count, e.g. the right user code).
    pub(crate) fn refund(&self, key: &Key, now: u64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = map.get_mut(key)
            && entry.0 + self.window > now
        {
            entry.1 = entry.1.saturating_sub(1);
        }
    }

    /// How many keys it tracks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_holds_per_key_and_the_window_ends() {
        let w = Windows::new(3, 60, 100);
        let (a, b) = (key(&["a"]), key(&["b"]));
        for _ in 0..3 {
            assert!(w.hit(&a, 1000).is_ok());
        }
        assert_eq!(w.hit(&a, 1010), Err(50));
        assert!(w.hit(&b, 1010).is_ok(), "another key is not affected");
        assert!(w.hit(&a, 1060).is_ok());
    }

    #[test]
    fn a_refund_gives_a_hit_back() {
        let w = Windows::new(1, 60, 100);
        let a = key(&["a"]);
        assert!(w.hit(&a, 1000).is_ok());
        w.refund(&a, 1000);
        assert!(w.hit(&a, 1000).is_ok());
        assert!(w.hit(&a, 1000).is_err());
    }

    #[test]
    fn a_full_table_keeps_offenders_and_makes_room_for_others() {
        let w = Windows::new(2, 60, 10);
        let offender = key(&["offender"]);
        assert!(w.hit(&offender, 1000).is_ok());
        assert!(w.hit(&offender, 1000).is_ok());
        for i in 0..100 {
            assert!(w.hit(&key(&[&i.to_string()]), 1000).is_ok(), "{i}");
            assert!(w.len() <= 10);
        }
        assert!(w.hit(&offender, 1000).is_err(), "the offender was kept");
    }

    #[test]
    fn a_table_full_of_offenders_refuses_only_new_keys_until_windows_end() {
        let w = Windows::new(1, 60, 3);
        for i in 0..3 {
            assert!(w.hit(&key(&[&i.to_string()]), 1000).is_ok());
        }
        assert_eq!(w.hit(&key(&["new"]), 1030), Err(30));
        assert!(w.hit(&key(&["new"]), 1060).is_ok());
    }

    #[test]
    fn parts_and_addresses_make_distinct_keys() {
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
        let k = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(k("2001:db8::1"), k("2001:db8::ffff:1"));
        assert_ne!(k("2001:db8::1"), k("2001:db8:0:1::1"));
        assert_eq!(k("::ffff:192.0.2.1"), k("192.0.2.1"));
        assert_ne!(k("192.0.2.1"), k("192.0.2.2"));
    }
}
