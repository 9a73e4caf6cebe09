//! A min-queue of `(time, slot)` entries whose times take few distinct
//! values: each time is a bucket of slots. The engine queues quiet
//! partitions at times rounded to half a window ([`crate::engine`]), so a
//! pattern has a handful of distinct times pending however many partitions
//! wait. A binary heap paid a sift through every level per entry popped
//! (~220 instructions with 10,000 entries, 4% of the shipped library over
//! 5,000 symbols); a bucket is taken whole.

use std::collections::VecDeque;

/// Emptied bucket vectors kept for reuse (their capacity is what a bucket
/// of this pattern needs).
const SPARE: usize = 8;

#[derive(Clone, Debug, Default)]
pub(crate) struct Buckets {
    /// (time, slots queued for it in the order queued), by time. Times are
    /// queued nearly in order (an event's time plus a window), so a new
    /// entry's bucket is found from the back in a step or two: a search
    /// tree cost more per entry than the heap it replaced.
    q: VecDeque<(i64, Vec<usize>)>,
    spare: Vec<Vec<usize>>,
}

impl Buckets {
    pub(crate) fn push(&mut self, t: i64, slot: usize) {
        // Most entries go to the newest bucket or after it: decided on the
        // back alone, without the indexed scan's wrap-around arithmetic.
        match self.q.back_mut() {
            Some(b) if b.0 == t => {
                b.1.push(slot);
                return;
            }
            Some(b) if b.0 > t => {}
            _ => return self.open(self.q.len(), t, slot),
        }
        let mut i = self.q.len();
        while i > 0 && self.q.get(i - 1).is_some_and(|b| b.0 > t) {
            i -= 1;
        }
        if let Some(b) = i.checked_sub(1).and_then(|j| self.q.get_mut(j)) {
            if b.0 == t {
                b.1.push(slot);
                return;
            }
        }
        self.open(i, t, slot);
    }

    /// A new bucket for time `t` holding `slot`, at position `i`.
    fn open(&mut self, i: usize, t: i64, slot: usize) {
        let mut v = self.spare.pop().unwrap_or_default();
        v.push(slot);
        if i == self.q.len() {
            self.q.push_back((t, v));
        } else {
            self.q.insert(i, (t, v));
        }
    }

    /// The earliest time queued.
    pub(crate) fn first(&self) -> Option<i64> {
        self.q.front().map(|b| b.0)
    }

    /// Removes every entry with a time before `n`, earliest time first
    /// (in the order queued within a time), and hands each to `f`.
    pub(crate) fn pop_before(&mut self, n: i64, mut f: impl FnMut(i64, usize)) {
        while self.q.front().is_some_and(|b| b.0 < n) {
            let Some((t, mut v)) = self.q.pop_front() else {
                break;
            };
            for slot in v.drain(..) {
                f(t, slot);
            }
            if self.spare.len() < SPARE {
                self.spare.push(v);
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        while let Some((_, mut v)) = self.q.pop_front() {
            if self.spare.len() < SPARE {
                v.clear();
                self.spare.push(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Pops what a binary heap of the same entries pops, as a set per
        /// cut-off, and `first` is the heap's minimum.
        #[test]
        fn buckets_pop_what_a_heap_pops(
            ops in proptest::collection::vec((0i64..12, 0usize..50, any::<bool>()), 0..300)
        ) {
            let (mut b, mut h) = (Buckets::default(), BinaryHeap::<Reverse<(i64, usize)>>::new());
            for (t, slot, pop) in ops {
                if pop {
                    let (mut got, mut want) = (Vec::new(), Vec::new());
                    b.pop_before(t, |t, s| got.push((t, s)));
                    while let Some(Reverse(e)) = h.peek().copied() {
                        if e.0 >= t {
                            break;
                        }
                        h.pop();
                        want.push(e);
                    }
                    // Earliest time first; slots within a time in any order.
                    prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
                    got.sort_unstable();
                    want.sort_unstable();
                    prop_assert_eq!(got, want);
                } else {
                    b.push(t, slot);
                    h.push(Reverse((t, slot)));
                }
                prop_assert_eq!(b.first(), h.peek().map(|Reverse(e)| e.0));
            }
            b.clear();
            prop_assert_eq!(b.first(), None);
        }
    }
}
