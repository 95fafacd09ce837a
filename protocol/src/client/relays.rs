//! Which relay to try next (DESIGN §15 Clients): the relays of `--relay a,b,c`
//! in order, each reconnect attempt moving on to the next one (wrapping), so
//! a client whose relay died reaches another on its first retry. Pure: the
//! connection task asks it where to go and tells it nothing else.

use super::config::RelayUrls;

/// The relays of one cluster and the one in use (or being tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayRing {
    /// Never empty: built from a first relay and the others.
    urls: Vec<RelayUrls>,
    current: usize,
}

impl RelayRing {
    /// `first` is tried first; `others` follow in their order.
    pub fn new(first: RelayUrls, others: impl IntoIterator<Item = RelayUrls>) -> Self {
        let mut urls = vec![first];
        urls.extend(others);
        RelayRing { urls, current: 0 }
    }

    /// The relay in use, or the one the next attempt goes to.
    pub fn current(&self) -> &RelayUrls {
        // `current` is always a valid index: `urls` is never empty and
        // `advance` wraps.
        &self.urls[self.current]
    }

    /// Its place in the list (0 for the first).
    pub fn index(&self) -> usize {
        self.current
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// Never true: a ring always has its first relay.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Every relay, in the order given.
    pub fn all(&self) -> &[RelayUrls] {
        &self.urls
    }

    /// Moves on to the next relay (after the last: the first again) and
    /// returns it. With one relay this is that relay every time.
    pub fn advance(&mut self) -> &RelayUrls {
        self.current = (self.current + 1) % self.urls.len();
        self.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(list: &str) -> RelayRing {
        let mut l = RelayUrls::parse_list(list).unwrap().into_iter();
        let first = l.next().unwrap();
        RelayRing::new(first, l)
    }

    fn host(u: &RelayUrls) -> &str {
        u.http.trim_start_matches("http://")
    }

    /// Each attempt goes to the next relay in the order given, wrapping after the last.
    #[test]
    fn attempts_walk_the_list_in_order_and_wrap() {
        let mut r = ring("a:1,b:2,c:3");
        assert_eq!((host(r.current()), r.index(), r.len()), ("a:1", 0, 3));
        let walked: Vec<String> = (0..7).map(|_| host(r.advance()).to_owned()).collect();
        assert_eq!(walked, ["b:2", "c:3", "a:1", "b:2", "c:3", "a:1", "b:2"]);
        assert_eq!(r.index(), 1);
    }

    /// A single relay is retried itself, as before there were lists.
    #[test]
    fn one_relay_is_always_itself() {
        let mut r = ring("ws://only:8080");
        for _ in 0..3 {
            assert_eq!(r.advance().ws, "ws://only:8080/ws");
        }
        assert_eq!(r.index(), 0);
        assert!(!r.is_empty());
    }

    /// The list is kept as given: the first relay answers first.
    #[test]
    fn the_list_is_kept() {
        let r = ring("wss://x, ws://y:2");
        let ws: Vec<&str> = r.all().iter().map(|u| u.ws.as_str()).collect();
        assert_eq!(ws, ["wss://x/ws", "ws://y:2/ws"]);
        assert_eq!(r.current().ws, "wss://x/ws");
    }
}
