//! The device requests this instance has seen polled (or made), kept in memory with their
//! poll pacing: a poll opens its request record once rather than at every poll, and
//! writes nothing back; only the person's decision is read from the store each time
//! (one read, which another instance may have written). `slow_down` is therefore paced
//! per instance (RFC 8628 §3.5 leaves the pacing to the server).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::grant::DeviceRequest;

/// The most requests kept; beyond it the ended ones go, then all (each then costs one
/// store read more, and its pacing starts again).
const CAPACITY: usize = 100_000;

/// A device request as polls need it.
#[derive(Clone)]
pub(crate) struct Polled {
    // Shared, so that handing the request to a poll allocates nothing.
    pub(crate) client_id: Arc<str>,
    pub(crate) scope: Arc<[String]>,
    /// Unix seconds: the codes' end.
    pub(crate) expires_at: u64,
    /// Unix seconds: when the request's record ends (after `expired_token`'s grace).
    until: u64,
    /// Seconds the device must wait between polls (grows at each `slow_down`).
    interval: u64,
    /// Unix seconds of the last poll seen here.
    last_poll: Option<u64>,
}

impl Polled {
    /// The request as its record holds it, its record ending at `until`.
    pub(crate) fn of(request: DeviceRequest, until: u64) -> Self {
        Self {
            client_id: request.client_id.into(),
            scope: request.scope.into(),
            expires_at: request.expires_at,
            until,
            interval: request.interval,
            last_poll: request.last_poll,
        }
    }
}

/// Device requests by record id.
#[derive(Default)]
pub(crate) struct Polls {
    map: Mutex<HashMap<String, Polled>>,
}

impl Polls {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Polled>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The request `id`, if kept here and its record not ended at `now`.
    pub(crate) fn get(&self, id: &str, now: u64) -> Option<Polled> {
        self.lock().get(id).filter(|p| now < p.until).cloned()
    }

    /// Keeps request `id` (unless kept already: its pacing stays).
    pub(crate) fn keep(&self, id: &str, polled: Polled, now: u64) {
        let mut map = self.lock();
        if map.len() >= CAPACITY {
            map.retain(|_, p| now < p.until);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.entry(id.to_owned()).or_insert(polled);
    }

    /// Records a poll of `id` at `now`: `true` when it came before the interval was over
    /// (`slow_down`: the interval grows by `step`).
    pub(crate) fn polled(&self, id: &str, now: u64, step: u64) -> bool {
        let mut map = self.lock();
        let Some(p) = map.get_mut(id) else {
            return false;
        };
        let too_soon = p
            .last_poll
            .is_some_and(|t| now < t.saturating_add(p.interval));
        if too_soon {
            p.interval = p.interval.saturating_add(step);
        }
        p.last_poll = Some(now);
        too_soon
    }

    /// Forgets request `id` (its tokens were issued).
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(interval: u64) -> DeviceRequest {
        DeviceRequest {
            client_id: "tv".into(),
            scope: vec![],
            user_code_hash: String::new(),
            expires_at: 100,
            interval,
            last_poll: None,
        }
    }

    #[test]
    fn polls_are_paced_and_requests_end_with_their_record() {
        let polls = Polls::default();
        polls.keep("d.1", Polled::of(request(5), 200), 0);
        assert!(!polls.polled("d.1", 10, 5), "the first poll");
        assert!(polls.polled("d.1", 12, 5), "too soon: slow down");
        assert!(polls.polled("d.1", 19, 5), "the interval is now 10 s");
        assert!(!polls.polled("d.1", 34, 5), "15 s after: in time");
        // Kept again (another poll read the record meanwhile): the pacing stays.
        polls.keep("d.1", Polled::of(request(5), 200), 35);
        assert!(polls.polled("d.1", 36, 5), "still paced at 15 s");
        assert!(polls.get("d.1", 199).is_some());
        assert!(polls.get("d.1", 200).is_none(), "the record has ended");
        polls.remove("d.1");
        assert!(polls.get("d.1", 0).is_none());
        assert!(
            !polls.polled("d.unknown", 0, 5),
            "nothing kept, nothing paced"
        );
    }
}
