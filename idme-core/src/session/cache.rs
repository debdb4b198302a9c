//! A bounded cache of opened session cookies, so the authenticated-request path does not
//! decrypt and deserialise the same sealed value on every request.
//!
//! Keyed by the exact sealed cookie value: only values that opened successfully (AEAD
//! verified with one of our keys) are ever inserted, so a forged value can only miss.
//! The hash covers the value's last 32 bytes (part of the random nonce-dependent
//! ciphertext and the GCM tag), and equality compares the whole value. Expiry is still
//! checked on every hit.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};

type Entries<T> = HashMap<u64, (Box<str>, Arc<T>)>;

/// Opened sessions by sealed value. One entry per hash of the value's tail; a collision
/// (two live values with the same 64-bit hash) only evicts, it never mixes sessions up
/// because a hit compares the whole value.
pub(crate) struct OpenedCache<T> {
    capacity: usize,
    hasher: RandomState,
    map: RwLock<Entries<T>>,
}

impl<T> std::fmt::Debug for OpenedCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedCache")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl<T> OpenedCache<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            hasher: RandomState::new(),
            map: RwLock::new(HashMap::new()),
        }
    }

    fn key(&self, sealed: &str) -> u64 {
        let bytes = sealed.as_bytes();
        self.hasher
            .hash_one(&bytes[bytes.len().saturating_sub(32)..])
    }

    /// The opened value of `sealed`, if cached.
    pub(crate) fn get(&self, sealed: &str) -> Option<Arc<T>> {
        let key = self.key(sealed);
        let map = self.map.read().unwrap_or_else(|p| p.into_inner());
        map.get(&key)
            .filter(|(value, _)| value.as_ref() == sealed)
            .map(|(_, opened)| opened.clone())
    }

    /// Remembers the opened value of `sealed`; `keep` decides which entries survive when
    /// the cache is full (e.g. the unexpired ones), and it is emptied if that is not enough.
    pub(crate) fn insert(&self, sealed: &str, opened: Arc<T>, keep: impl Fn(&T) -> bool) {
        let key = self.key(sealed);
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.capacity {
            map.retain(|_, (_, v)| keep(v));
            if map.len() >= self.capacity {
                map.clear();
            }
        }
        map.insert(key, (sealed.into(), opened));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_compare_the_whole_value() {
        let c = OpenedCache::new(4);
        let tail = "x".repeat(40);
        c.insert(&format!("a{tail}"), Arc::new(1), |_| true);
        assert_eq!(c.get(&format!("a{tail}")).as_deref(), Some(&1));
        // Same last 32 bytes (same hash), different value: a miss, never another session.
        assert_eq!(c.get(&format!("b{tail}")), None);
        assert_eq!(c.get("short"), None);
    }

    #[test]
    fn a_full_cache_keeps_what_it_should_and_stays_bounded() {
        let c = OpenedCache::new(2);
        c.insert("k1", Arc::new(1), |_| true);
        c.insert("k2", Arc::new(2), |_| true);
        c.insert("k3", Arc::new(3), |v| *v == 2);
        assert_eq!(c.get("k1"), None);
        assert_eq!(c.get("k2").as_deref(), Some(&2));
        assert_eq!(c.get("k3").as_deref(), Some(&3));
        c.insert("k4", Arc::new(4), |_| false);
        assert_eq!(c.get("k2"), None);
        assert_eq!(c.get("k4").as_deref(), Some(&4));
    }
}
