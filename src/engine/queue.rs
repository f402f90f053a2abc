use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};

use super::SimTime;

/// Pending events, popped in `(time, sequence number)` order: the earliest first and, among
/// events due at the same instant, the one scheduled first.
///
/// Callers must never schedule an event before the time of the last popped one (simulated time
/// does not go backwards); implementations may rely on it.
pub trait EventQueue<E> {
    fn push(&mut self, time: SimTime, event: E);
    fn pop(&mut self) -> Option<(SimTime, E)>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A monotone radix heap over integer time.
///
/// Bucket `b > 0` holds the events whose time differs from the last popped time `last` first in
/// bit `b - 1` (counting from 0); bucket 0 holds the events due exactly at `last`. Popping from
/// bucket 0 is O(1); when it runs dry, the lowest non-empty bucket is redistributed around its
/// minimum, and each event moves down at most 64 times in its life: O(log T) amortised per event,
/// with no comparisons between payloads.
///
/// FIFO among equal times: a bucket only receives redistributed events while it is empty, and
/// pushes append, so events due at the same instant keep the order they were pushed in. Bucket 0
/// is a `VecDeque` so that it is consumed from the front.
pub struct RadixQueue<E> {
    last: u64,
    len: usize,
    due_now: VecDeque<(u64, E)>,
    buckets: Vec<Vec<(u64, E)>>,
    /// Bit `b` set when `buckets[b]` is non-empty (bit 0 unused).
    occupied: u128,
}

impl<E> Default for RadixQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> RadixQueue<E> {
    pub fn new() -> Self {
        RadixQueue {
            last: 0,
            len: 0,
            due_now: VecDeque::new(),
            buckets: (0..=64).map(|_| Vec::new()).collect(),
            occupied: 0,
        }
    }

    fn bucket_of(&self, time: u64) -> usize {
        let diff = time ^ self.last;
        if diff == 0 { 0 } else { 64 - diff.leading_zeros() as usize }
    }

    fn place(&mut self, time: u64, event: E) {
        match self.bucket_of(time) {
            0 => self.due_now.push_back((time, event)),
            b => {
                self.buckets[b].push((time, event));
                self.occupied |= 1 << b;
            }
        }
    }

    fn refill_due_now(&mut self) -> bool {
        if self.occupied == 0 {
            return false;
        }
        let lowest = self.occupied.trailing_zeros() as usize;
        let mut moving = std::mem::take(&mut self.buckets[lowest]);
        self.occupied &= !(1 << lowest);
        self.last = moving.iter().map(|&(t, _)| t).min().expect("an occupied bucket is not empty");
        for (time, event) in moving.drain(..) {
            self.place(time, event);
        }
        // Hand the emptied vector back so its capacity is reused.
        self.buckets[lowest] = moving;
        true
    }
}

impl<E> EventQueue<E> for RadixQueue<E> {
    fn push(&mut self, time: SimTime, event: E) {
        debug_assert!(time.0 >= self.last, "event scheduled in the past");
        self.len += 1;
        self.place(time.0, event);
    }

    fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.due_now.is_empty() && !self.refill_due_now() {
            return None;
        }
        let (time, event) = self.due_now.pop_front().expect("refilled above");
        self.len -= 1;
        Some((SimTime(time), event))
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// The reference queue: `std::collections::BinaryHeap` keyed by `(time, sequence number)`.
/// O(log n) per operation with comparisons; kept for tests and benchmarks.
pub struct HeapQueue<E> {
    next_seq: u64,
    heap: BinaryHeap<Reverse<Entry<E>>>,
}

struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

impl<E> Default for HeapQueue<E> {
    fn default() -> Self {
        HeapQueue { next_seq: 0, heap: BinaryHeap::new() }
    }
}

impl<E> EventQueue<E> for HeapQueue<E> {
    fn push(&mut self, time: SimTime, event: E) {
        self.heap.push(Reverse(Entry { time: time.0, seq: self.next_seq, event }));
        self.next_seq += 1;
    }

    fn pop(&mut self) -> Option<(SimTime, E)> {
        self.heap.pop().map(|Reverse(e)| (SimTime(e.time), e.event))
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Drives a queue with a random mix of pushes (never before the current time, often at
    /// exactly the current time, sometimes far ahead) and pops, and returns the popped sequence.
    fn drive(queue: &mut dyn EventQueue<u32>, seed: u64) -> Vec<(SimTime, u32)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut now = 0u64;
        let mut popped = Vec::new();
        let mut label = 0u32;
        for _ in 0..20_000 {
            if rng.random_bool(0.55) {
                let ahead = match rng.random_range(0..4) {
                    0 => 0,
                    1 => rng.random_range(0..8),
                    2 => rng.random_range(0..1_000_000),
                    _ => rng.random_range(0..1u64 << 40),
                };
                queue.push(SimTime(now + ahead), label);
                label += 1;
            } else if let Some((t, e)) = queue.pop() {
                now = t.0;
                popped.push((t, e));
            }
        }
        while let Some((t, e)) = queue.pop() {
            popped.push((t, e));
        }
        popped
    }

    #[test]
    fn radix_queue_pops_in_the_same_order_as_the_reference_heap() {
        for seed in 0..8 {
            let radix = drive(&mut RadixQueue::new(), seed);
            let heap = drive(&mut HeapQueue::default(), seed);
            assert_eq!(radix.len(), heap.len());
            assert_eq!(radix, heap, "seed {seed}");
        }
    }

    #[test]
    fn events_at_the_same_instant_run_in_scheduling_order() {
        let mut q = RadixQueue::new();
        q.push(SimTime(5), 'b');
        q.push(SimTime(3), 'a');
        q.push(SimTime(5), 'c');
        assert_eq!(q.pop(), Some((SimTime(3), 'a')));
        q.push(SimTime(5), 'd');
        q.push(SimTime(3), 'e');
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(rest, vec![(SimTime(3), 'e'), (SimTime(5), 'b'), (SimTime(5), 'c'), (SimTime(5), 'd')]);
        assert!(q.is_empty());
    }
}
