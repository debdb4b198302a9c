//! The app clients' limits, counted in bounded memory by [`Windows`]: user-code guesses
//! per person; device codes per address, per client and for the instance;
//! `/auth/authorize` and refreshes per person and client. And the in-process half of
//! single-use (a code taken here is taken, whatever the store's lock says).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use super::limits::{Windows, address_key, key};

/// Wrong user codes a person may type per [`GUESS_WINDOW`] (each guess reserves its
/// place before the lookup; a right code gives it back).
const GUESSES: u32 = 5;
/// Seconds.
const GUESS_WINDOW: u64 = 300;
/// The window of the other limits, seconds.
const MINUTE: u64 = 60;
/// Device codes per address (IPv6: per /64) per minute.
const DEVICE_CODES_PER_ADDRESS: u32 = 20;
/// Device codes per client per minute, all addresses together (a client id is public).
const DEVICE_CODES_PER_CLIENT: u32 = 600;
/// Device codes per minute on this instance, all clients together: the endpoint needs
/// no sign-in, so this bounds what a flood can make the app store hold.
const DEVICE_CODES: u32 = 3000;
/// `/auth/authorize` answers with a code per person and client per minute.
const AUTHORIZE_PER_PERSON: u32 = 30;
/// Refreshes at `/auth/token` per person and client per minute (the other grants are
/// bounded before: a code per `/auth/authorize`, tokens per device the person allowed).
const TOKENS_PER_PERSON: u32 = 30;
/// Keys (people, addresses) each limit tracks at most.
const MAX_KEYS: usize = 50_000;
/// Codes remembered as taken at most; past it the oldest are forgotten, never a take
/// refused.
const MAX_TAKEN: usize = 100_000;

/// Why a device code was refused: this party's (or client's) limit, or the instance's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceRefusal {
    /// The address or the client asked too often: seconds to wait.
    Party(u64),
    /// The instance hands out too many: seconds to wait.
    Instance(u64),
}

/// The counters.
#[derive(Debug)]
pub(crate) struct Throttle {
    guesses: Windows,
    device_by_address: Windows,
    device_by_client: Windows,
    device_codes: Windows,
    authorize: Windows,
    tokens: Windows,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            guesses: Windows::new(GUESSES, GUESS_WINDOW, MAX_KEYS),
            device_by_address: Windows::new(DEVICE_CODES_PER_ADDRESS, MINUTE, MAX_KEYS),
            device_by_client: Windows::new(DEVICE_CODES_PER_CLIENT, MINUTE, MAX_KEYS),
            device_codes: Windows::new(DEVICE_CODES, MINUTE, 1),
            authorize: Windows::new(AUTHORIZE_PER_PERSON, MINUTE, MAX_KEYS),
            tokens: Windows::new(TOKENS_PER_PERSON, MINUTE, MAX_KEYS),
        }
    }
}

impl Throttle {
    /// Reserves a guess of a user code by `person` at `now`, before the lookup: `false`
    /// when the person has no guess left. The guess counts as wrong unless
    /// [`guess_found`](Self::guess_found) gives it back.
    pub(crate) fn reserve_guess(&self, person: &str, now: u64) -> bool {
        self.guesses.hit(&key(&[person]), now).is_ok()
    }

    /// The guess `person` reserved found a pending request: it does not count.
    pub(crate) fn guess_found(&self, person: &str, now: u64) {
        self.guesses.refund(&key(&[person]), now);
    }

    /// Counts a device code about to be handed out to `client_id` at `addr` (per address
    /// only when the adapter knows it), at `now`.
    pub(crate) fn device_code(
        &self,
        client_id: &str,
        addr: Option<IpAddr>,
        now: u64,
    ) -> Result<(), DeviceRefusal> {
        let addr = addr.map(address_key);
        if let Some(addr) = &addr {
            self.device_by_address
                .hit(addr, now)
                .map_err(DeviceRefusal::Party)?;
        }
        let client = key(&[client_id]);
        let refund_address = || {
            if let Some(addr) = &addr {
                self.device_by_address.refund(addr, now);
            }
        };
        if let Err(wait) = self.device_by_client.hit(&client, now) {
            refund_address();
            return Err(DeviceRefusal::Party(wait));
        }
        if let Err(wait) = self.device_codes.hit(&[0; 16], now) {
            refund_address();
            self.device_by_client.refund(&client, now);
            return Err(DeviceRefusal::Instance(wait));
        }
        Ok(())
    }

    /// Counts a code `/auth/authorize` is about to give `person` for `client_id`:
    /// `Err(seconds to wait)` past the limit.
    pub(crate) fn authorize(&self, person: &str, client_id: &str, now: u64) -> Result<(), u64> {
        self.authorize.hit(&key(&[person, client_id]), now)
    }

    /// Counts a refresh `/auth/token` is about to make for `person` and `client_id`:
    /// `Err(seconds to wait)` past the limit.
    pub(crate) fn tokens(&self, person: &str, client_id: &str, now: u64) -> Result<(), u64> {
        self.tokens.hit(&key(&[person, client_id]), now)
    }
}

/// Single-use codes taken by this process, each until it expires.
///
/// Only a code loaded from the store is ever taken (an authorization code, a device
/// request and its decision, each issued to a signed-in person under the limits above),
/// and the mark matters only while a request that loaded the record before the first
/// taker deleted it is still running: later ones no longer find the record. So when the
/// table is full, expired marks go first, then the oldest quarter (taken long before
/// any request still running); a take is never refused for room. Across instances, and
/// within one on a store with real locks, the store's lock guards as well.
#[derive(Debug, Default)]
pub(crate) struct Taken(Mutex<TakenMap>);

#[derive(Debug, Default)]
struct TakenMap {
    /// Key → (until, sequence number of the take).
    marks: HashMap<String, (u64, u64)>,
    next: u64,
}

impl Taken {
    /// Takes `key` until `until`; `false` when this process took it already.
    pub(crate) fn take(&self, key: &str, until: u64, now: u64) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.marks.get(key).is_some_and(|(u, _)| *u > now) {
            return false;
        }
        if map.marks.len() >= MAX_TAKEN && !map.marks.contains_key(key) {
            map.marks.retain(|_, (u, _)| *u > now);
            if map.marks.len() >= MAX_TAKEN {
                let mut seqs: Vec<u64> = map.marks.values().map(|(_, s)| *s).collect();
                let quarter = seqs.len() / 4;
                let (_, cut, _) = seqs.select_nth_unstable(quarter);
                let cut = *cut;
                map.marks.retain(|_, (_, s)| *s >= cut);
            }
        }
        let seq = map.next;
        map.next += 1;
        map.marks.insert(key.to_owned(), (until, seq));
        true
    }

    /// How many marks it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).marks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_codes_per_person_then_refused_until_the_window_ends() {
        let t = Throttle::default();
        for _ in 0..5 {
            assert!(t.reserve_guess("a", 1000));
        }
        assert!(!t.reserve_guess("a", 1000));
        assert!(t.reserve_guess("b", 1000), "another person is not affected");
        assert!(t.reserve_guess("a", 1000 + GUESS_WINDOW));
    }

    #[test]
    fn a_right_code_gives_its_guess_back() {
        let t = Throttle::default();
        for _ in 0..10 {
            assert!(t.reserve_guess("a", 1000));
            t.guess_found("a", 1000);
        }
    }

    #[test]
    fn wrong_codes_of_many_people_never_lock_out_another() {
        let t = Throttle::default();
        for i in 0..1000 {
            let person = format!("p{i}");
            while t.reserve_guess(&person, 1000) {}
        }
        assert!(t.reserve_guess("someone-new", 1000));
    }

    #[test]
    fn device_codes_are_limited_per_address_then_per_client_then_for_the_instance() {
        let t = Throttle::default();
        let here: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..DEVICE_CODES_PER_ADDRESS {
            assert!(t.device_code("tv", Some(here), 1000).is_ok());
        }
        assert_eq!(
            t.device_code("tv", Some(here), 1010),
            Err(DeviceRefusal::Party(50))
        );
        let mut n = DEVICE_CODES_PER_ADDRESS;
        let mut addr = 0u32;
        while n < DEVICE_CODES_PER_CLIENT {
            addr += 1;
            let at = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + addr));
            if t.device_code("tv", Some(at), 1000).is_ok() {
                n += 1;
            }
        }
        let elsewhere: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(matches!(
            t.device_code("tv", Some(elsewhere), 1000),
            Err(DeviceRefusal::Party(_))
        ));
        for i in 0..(DEVICE_CODES - DEVICE_CODES_PER_CLIENT) {
            assert!(t.device_code(&format!("c{i}"), None, 1000).is_ok());
        }
        assert!(matches!(
            t.device_code("other", Some(elsewhere), 1000),
            Err(DeviceRefusal::Instance(_))
        ));
        assert!(t.device_code("tv", Some(here), 1000 + MINUTE).is_ok());
    }

    #[test]
    fn a_code_is_taken_once() {
        let t = Taken::default();
        assert!(t.take("k", 2000, 1000));
        assert!(!t.take("k", 2000, 1001));
        assert!(t.take("k", 3000, 2000), "after its expiry the key is free");
    }

    #[test]
    fn a_full_single_use_table_never_refuses_a_take() {
        let t = Taken::default();
        for i in 0..MAX_TAKEN {
            assert!(t.take(&format!("flood{i}"), 5000, 1000));
        }
        assert!(
            t.take("real", 5000, 1000),
            "a real redemption is not refused"
        );
        assert!(!t.take("real", 5000, 1001), "and it is taken once");
        assert!(t.len() <= MAX_TAKEN);
        assert!(
            !t.take(&format!("flood{}", MAX_TAKEN - 1), 5000, 1001),
            "the newest marks were kept"
        );
    }
}
