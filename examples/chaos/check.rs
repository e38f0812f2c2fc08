//! The end-of-run check: every subscriber's recorded events against the authoritative
//! log (`show_changes`, per show, in seq order).
//!
//! The contract: a subscriber sees every change of its show after its position exactly
//! once and in order; an `initial` (the first one, or a fresh one when a resume point is
//! too old) sets the position to the snapshot's seq.

use std::collections::HashSet;

use crate::subscriber::Event;

/// What the check found, summed over subscribers.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Changes received in the right place.
    pub deliveries: u64,
    /// Committed changes a subscriber should have seen but never did.
    pub lost: u64,
    /// Changes received again (same seq since the last `initial`).
    pub duplicated: u64,
    /// Changes received behind the position without having been seen before, or before
    /// any `initial`.
    pub out_of_order: u64,
    /// `initial`s after the first one.
    pub reinitials: u64,
}

impl Outcome {
    pub fn add(&mut self, o: &Outcome) {
        self.deliveries += o.deliveries;
        self.lost += o.lost;
        self.duplicated += o.duplicated;
        self.out_of_order += o.out_of_order;
        self.reinitials += o.reinitials;
    }
}

/// Checks one subscriber's `events` against `log`, the show's committed seqs ascending.
pub fn check(events: &[Event], log: &[i64]) -> Outcome {
    let mut o = Outcome::default();
    // Index in `log` of the next change due, once positioned.
    let mut next: Option<usize> = None;
    let mut seen = HashSet::new();
    let mut initials = 0u64;
    for &event in events {
        match event {
            Event::Initial(seq) => {
                initials += 1;
                seen.clear();
                next = Some(log.partition_point(|&s| s <= seq));
            }
            Event::Delta(seq) => {
                let Some(at) = next else {
                    o.out_of_order += 1;
                    continue;
                };
                if log.get(at) == Some(&seq) {
                    o.deliveries += 1;
                    seen.insert(seq);
                    next = Some(at + 1);
                } else if seen.contains(&seq) {
                    o.duplicated += 1;
                } else if log.get(at).is_some_and(|&due| seq > due) {
                    // A jump forward: everything between was lost.
                    let to = log.partition_point(|&s| s < seq);
                    o.lost += (to - at) as u64;
                    if log.get(to) == Some(&seq) {
                        o.deliveries += 1;
                        seen.insert(seq);
                        next = Some(to + 1);
                    } else {
                        // A seq the log does not have at all.
                        o.out_of_order += 1;
                        next = Some(to);
                    }
                } else {
                    o.out_of_order += 1;
                }
            }
        }
    }
    if let Some(at) = next {
        o.lost += (log.len() - at.min(log.len())) as u64;
    }
    o.reinitials = initials.saturating_sub(1);
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use Event::{Delta, Initial};

    #[test]
    fn exact_stream_is_clean() {
        let o = check(&[Initial(2), Delta(3), Delta(4)], &[1, 2, 3, 4]);
        assert_eq!(
            (o.deliveries, o.lost, o.duplicated, o.out_of_order),
            (2, 0, 0, 0)
        );
    }

    #[test]
    fn gaps_duplicates_and_reinitials() {
        let o = check(
            &[
                Initial(0),
                Delta(1),
                Delta(3),
                Delta(3),
                Initial(5),
                Delta(6),
            ],
            &[1, 2, 3, 4, 5, 6, 7],
        );
        assert_eq!(o.lost, 2); // 2, then 7 never arrived
        assert_eq!(o.duplicated, 1);
        assert_eq!(o.reinitials, 1);
        assert_eq!(o.out_of_order, 0);
    }
}
