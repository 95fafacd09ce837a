//! The last durable event seen, and the rule that hands each event to the
//! program once (DESIGN §3 `seq`, §4 resume, §11).
//!
//! A client sees a strictly increasing subsequence of the log's seqs, so one
//! number is enough: an event whose seq is not above the last one seen was
//! already handed over (a replay after a reconnect overlapping the live
//! stream, a long-poll answered twice) and is dropped.

/// Last seq seen; `None` before anything (then the relay sends a snapshot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqTracker {
    last: Option<u64>,
}

impl SeqTracker {
    pub fn new(last: Option<u64>) -> Self {
        SeqTracker { last }
    }

    /// What to send as `since`.
    pub fn last(&self) -> Option<u64> {
        self.last
    }

    /// True when `seq` is new: the event is handed over and `seq` becomes the last.
    pub fn accept(&mut self, seq: u64) -> bool {
        match self.last {
            Some(last) if seq <= last => false,
            _ => {
                self.last = Some(seq);
                true
            }
        }
    }

    /// A snapshot replaces everything: it reflects every event up to its
    /// `head_seq`, which becomes the last seen even when it is lower (a
    /// `reset` snapshot of a log that started over).
    pub fn reset_to(&mut self, head_seq: u64) {
        self.last = Some(head_seq);
    }

    /// A long-poll answer's `head_seq`: the relay scanned the log up to it,
    /// so nothing visible to us at or below it is still to come.
    pub fn advance_to(&mut self, head_seq: u64) {
        if self.last.is_none_or(|l| head_seq > l) {
            self.last = Some(head_seq);
        }
    }

    /// Forget: the next connection starts without `since` (another `log_id`).
    pub fn clear(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds seqs and returns those handed over.
    fn deliver(t: &mut SeqTracker, seqs: &[u64]) -> Vec<u64> {
        seqs.iter().copied().filter(|s| t.accept(*s)).collect()
    }

    #[test]
    fn each_seq_is_handed_over_once() {
        let mut t = SeqTracker::default();
        assert_eq!(t.last(), None);
        assert_eq!(deliver(&mut t, &[3, 5, 9]), [3, 5, 9]);
        // A resume replays what overlaps with what was already seen.
        assert_eq!(deliver(&mut t, &[5, 9, 10, 12]), [10, 12]);
        assert_eq!(deliver(&mut t, &[12, 11, 1]), Vec::<u64>::new());
        assert_eq!(t.last(), Some(12));
    }

    #[test]
    fn snapshot_resets_even_downwards() {
        let mut t = SeqTracker::new(Some(40));
        t.reset_to(100);
        assert_eq!(deliver(&mut t, &[99, 100, 101]), [101]);
        // A reset snapshot of a log that started over.
        t.reset_to(7);
        assert_eq!(deliver(&mut t, &[7, 8]), [8]);
    }

    #[test]
    fn poll_head_only_moves_forward() {
        let mut t = SeqTracker::default();
        t.advance_to(20);
        assert_eq!(t.last(), Some(20));
        t.advance_to(15);
        assert_eq!(t.last(), Some(20));
        assert_eq!(deliver(&mut t, &[20, 21]), [21]);
        t.clear();
        assert_eq!(t.last(), None);
        assert_eq!(deliver(&mut t, &[1]), [1]);
    }
}
