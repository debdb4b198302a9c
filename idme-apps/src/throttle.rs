//! Limits on guessing user codes: per signed-in person and per instance, in bounded
//! memory; and the in-process half of single-use (a code taken here is taken, whatever
//! the store's lock says).

use std::collections::HashMap;
use std::sync::Mutex;

/// Wrong user codes a person may type per [`PERSON_WINDOW`].
const PERSON_LIMIT: u32 = 5;
/// Seconds.
const PERSON_WINDOW: u64 = 300;
/// Wrong user codes per [`GLOBAL_WINDOW`] on this instance, all people together.
const GLOBAL_LIMIT: u32 = 100;
/// Seconds.
const GLOBAL_WINDOW: u64 = 60;
/// Device codes this instance hands out per [`GLOBAL_WINDOW`]: the endpoint needs no
/// sign-in, so this bounds what a flood can make the app store hold.
const DEVICE_CODES_LIMIT: u32 = 1000;
/// People tracked at most; beyond, someone new is refused until windows end (fail closed).
const MAX_PEOPLE: usize = 10_000;
/// Codes remembered as taken at most (each until its code expires).
const MAX_TAKEN: usize = 100_000;

/// Wrong user codes, counted.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    people: Mutex<HashMap<String, (u64, u32)>>,
    global: Mutex<(u64, u32)>,
    device_codes: Mutex<(u64, u32)>,
}

impl Throttle {
    /// Counts a device code about to be handed out at `now`; `false` past the limit.
    pub(crate) fn device_code(&self, now: u64) -> bool {
        let mut window = self.device_codes.lock().unwrap_or_else(|p| p.into_inner());
        if window.0 + GLOBAL_WINDOW <= now {
            *window = (now, 0);
        }
        window.1 += 1;
        window.1 <= DEVICE_CODES_LIMIT
    }

    /// Whether `person` may try a code at `now`.
    pub(crate) fn allows(&self, person: &str, now: u64) -> bool {
        let global = *self.global.lock().unwrap_or_else(|p| p.into_inner());
        if global.0 + GLOBAL_WINDOW > now && global.1 >= GLOBAL_LIMIT {
            return false;
        }
        let mut people = self.people.lock().unwrap_or_else(|p| p.into_inner());
        match people.get(person) {
            Some((start, n)) if start + PERSON_WINDOW > now => *n < PERSON_LIMIT,
            Some(_) => true,
            None => {
                if people.len() >= MAX_PEOPLE {
                    people.retain(|_, (start, _)| *start + PERSON_WINDOW > now);
                }
                people.len() < MAX_PEOPLE
            }
        }
    }

    /// Counts a wrong code typed by `person` at `now`.
    pub(crate) fn failed(&self, person: &str, now: u64) {
        {
            let mut global = self.global.lock().unwrap_or_else(|p| p.into_inner());
            if global.0 + GLOBAL_WINDOW <= now {
                *global = (now, 0);
            }
            global.1 += 1;
        }
        let mut people = self.people.lock().unwrap_or_else(|p| p.into_inner());
        if people.len() >= MAX_PEOPLE && !people.contains_key(person) {
            people.retain(|_, (start, _)| *start + PERSON_WINDOW > now);
            if people.len() >= MAX_PEOPLE {
                return;
            }
        }
        let entry = people.entry(person.to_owned()).or_insert((now, 0));
        if entry.0 + PERSON_WINDOW <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

/// Single-use codes taken by this process, each until it expires.
#[derive(Debug, Default)]
pub(crate) struct Taken(Mutex<HashMap<String, u64>>);

impl Taken {
    /// Takes `key` until `until`; `false` when this process took it already (or is full).
    pub(crate) fn take(&self, key: &str, until: u64, now: u64) -> bool {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TAKEN {
            map.retain(|_, u| *u > now);
            if map.len() >= MAX_TAKEN {
                return false;
            }
        }
        match map.get(key) {
            Some(u) if *u > now => false,
            _ => {
                map.insert(key.to_owned(), until);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_wrong_codes_per_person_then_refused_until_the_window_ends() {
        let t = Throttle::default();
        for _ in 0..5 {
            assert!(t.allows("a", 1000));
            t.failed("a", 1000);
        }
        assert!(!t.allows("a", 1000));
        assert!(t.allows("b", 1000), "another person is not affected");
        assert!(t.allows("a", 1000 + PERSON_WINDOW));
    }

    #[test]
    fn the_instance_cap_holds_for_everyone() {
        let t = Throttle::default();
        for i in 0..GLOBAL_LIMIT {
            t.failed(&format!("p{}", i % 50), 1000);
        }
        assert!(!t.allows("someone-new", 1000));
        assert!(t.allows("someone-new", 1000 + GLOBAL_WINDOW));
    }

    #[test]
    fn device_codes_are_handed_out_at_a_bounded_rate() {
        let t = Throttle::default();
        for _ in 0..DEVICE_CODES_LIMIT {
            assert!(t.device_code(1000));
        }
        assert!(!t.device_code(1000));
        assert!(t.device_code(1000 + GLOBAL_WINDOW));
    }

    #[test]
    fn a_code_is_taken_once() {
        let t = Taken::default();
        assert!(t.take("k", 2000, 1000));
        assert!(!t.take("k", 2000, 1001));
        assert!(t.take("k", 3000, 2000), "after its expiry the key is free");
    }
}
