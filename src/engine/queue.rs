use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::SimTime;

/// Pending events, popped in `(time, sequence number)` order: the earliest first and, among
/// events due at the same instant, the one scheduled first.
///
/// Callers must never schedule an event before the time of the last popped one (simulated time
/// does not go backwards); implementations may rely on it.
pub trait EventQueue<E> {
    /// Schedules `event` at `time`, after every event already pending at that instant.
    fn push(&mut self, time: SimTime, event: E);
    /// Removes the next event and returns it with its time; `None` when none is pending.
    fn pop(&mut self) -> Option<(SimTime, E)>;
    /// Whether an event is pending at `time`, the time of the last [`pop`](EventQueue::pop): what
    /// the next pop returns is then due at that same instant.
    fn pending_at(&self, time: SimTime) -> bool;
    /// How many events are pending.
    fn len(&self) -> usize;
    /// Whether no event is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A monotone radix queue over integer time whose earliest events are kept sorted.
///
/// # How it works
/// Events far ahead wait in radix buckets. Level `l` (0 to 7) holds the events whose time first
/// differs from the reference time `base` in byte `l`, one bucket per value of that byte, so a
/// bucket covers an aligned range of `256^l` microseconds and every bucket of a level comes
/// before every bucket of the level above. Level 0's buckets each hold a single instant.
///
/// Pops come from `front`, sorted latest first so that a pop is `Vec::pop`. When it runs dry,
/// the lowest non-empty bucket is taken. If it holds more than `FRONT_BATCH` (256) events it is
/// split one level down around its own start (so an event moves down at most 7 times in its
/// life); otherwise it, and the non-empty buckets right after it on the same level while the
/// total stays within `FRONT_BATCH`, are sorted into `front`. `front_last`, the latest time in
/// `front` then, divides the pushes: a later one goes to its bucket in O(1). An earlier one goes
/// into `front` at its place if that is among the 8 soonest entries and `late` is empty, or if it
/// is strictly the earliest pending event; any other goes to `late`, a binary heap ordered by
/// time and push order, O(log n). So no push scans or shifts more than 8 entries, however many
/// events share an instant or land in `front`'s range.
///
/// Buckets are chains of blocks of up to 256 events drawn from one pool, most recently freed
/// first: an event moved or pushed lands in memory that was just in use, still in cache, and the
/// queue's memory follows the number of pending events rather than the largest size of every
/// bucket. A block the pool cannot provide starts at 8 events and doubles, so a small run does
/// not touch pages it never fills.
///
/// Every event moves a bounded number of times and no payload is compared: O(1) amortised per
/// event, against O(log n) for a binary heap. The sorted front also lets the caller look a few
/// events ahead ([`RadixQueue::peek`]) to prefetch what they will touch.
///
/// # FIFO among equal times
/// Events due at the same instant pop in the order they were pushed: a bucket only ever appends
/// (or is filled by a split while empty), two events of the same time always land in the same
/// bucket, and sorting is stable. Every event in `front` was pushed before every event in `late`
/// (a push enters `front` at its place only while `late` is empty), so a tie between the two
/// goes to `front`; an event appended to `front` while `late` is not empty is strictly earlier
/// than every other, so no tie involves it.
pub struct RadixQueue<E> {
    /// Sorted latest first; among equal times, the first pushed last.
    front: Vec<(u64, E)>,
    /// Pushes not later than `front_last` that were not the earliest event.
    late: HeapQueue<E>,
    /// The latest time in `front` when it was filled: pushes up to it go to `front` or `late`,
    /// later ones to a bucket. Every bucketed event is later than it.
    front_last: u64,
    /// The start of `front`'s range: the reference for bucket placement.
    base: u64,
    buckets: Box<[Bucket<E>]>,
    /// Empty blocks, the most recently freed last.
    pool: Vec<Block<E>>,
    /// Bit `d % 64` of `digits[l][d / 64]` is set when bucket `(l, d)` is non-empty.
    digits: [[u64; 4]; LEVELS],
    /// Scratch space for sorting a bucket into `front`, kept to avoid allocating.
    sort_keys: Vec<u64>,
    sort_copy: Vec<(u64, E)>,
    /// Bit `l` is set when level `l` has a non-empty bucket.
    levels: u8,
    len: usize,
}

/// A vector of at most [`BLOCK`] events (its capacity a power of two up to that).
type Block<E> = Vec<(u64, E)>;

/// The block being filled is kept in the bucket itself, so that a push reaches it without
/// another indirection; the full ones wait in `full`, in push order.
struct Bucket<E> {
    filling: Block<E>,
    full: Vec<Block<E>>,
    count: u32,
}

impl<E> Default for Bucket<E> {
    fn default() -> Self {
        Bucket { filling: Vec::new(), full: Vec::new(), count: 0 }
    }
}

const LEVELS: usize = 8;
const DIGITS: usize = 256;
const BLOCK: usize = 256;
const FIRST_BLOCK: usize = 8;

/// How far from its soon end `front` is searched for a push's place before the push goes to
/// `late` instead: inserting never shifts more than this many entries.
const NEAR_SCAN: usize = 8;

/// At most this many events are sorted into `front` at a time: enough to look ahead, few enough
/// that sorting and inserting stay cheap.
pub(super) const FRONT_BATCH: usize = 256;

impl<E: Copy> Default for RadixQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> RadixQueue<E> {
    /// An empty queue: the bucket headers are allocated now, their blocks only as events come.
    pub fn new() -> Self {
        RadixQueue {
            front: Vec::with_capacity(FRONT_BATCH),
            late: HeapQueue::default(),
            front_last: 0,
            base: 0,
            buckets: (0..LEVELS * DIGITS).map(|_| Bucket::default()).collect(),
            pool: Vec::new(),
            digits: [[0; 4]; LEVELS],
            sort_keys: Vec::with_capacity(FRONT_BATCH),
            sort_copy: Vec::with_capacity(FRONT_BATCH),
            levels: 0,
            len: 0,
        }
    }

    /// Puts back the event the last [`pop`](EventQueue::pop) returned, ahead of every other: a
    /// caller that runs the model up to a time (`Model::run_until`) pops one event too many. The
    /// time of the last pop is then again the one before: pushes may come at any time from it on,
    /// and all of those up to the event put back go to `front` or `late` (it is in `front`, so
    /// `front_last` is not below it), never to a bucket.
    pub fn unpop(&mut self, time: SimTime, event: E) {
        debug_assert!(self.front.last().is_none_or(|&(t, _)| time.0 <= t), "only the last popped event");
        debug_assert!(self.late.peek_time().is_none_or(|t| time.0 <= t), "only the last popped event");
        debug_assert!(time.0 <= self.front_last, "a popped event is never later than front_last");
        self.front.push((time.0, event));
        self.len += 1;
    }

    /// The `n`-th next event (0: the one the next pop returns), when it is already sorted into
    /// the front; `None` does not mean the queue has fewer events.
    pub fn peek(&self, n: usize) -> Option<&E> {
        let at = self.front.len().checked_sub(n + 1)?;
        Some(&self.front[at].1)
    }

    #[inline(always)]
    fn place(&mut self, time: u64, event: E) {
        let diff = time ^ self.base;
        let level = if diff == 0 { 0 } else { (63 - diff.leading_zeros() as usize) / 8 };
        let digit = ((time >> (8 * level)) & 0xff) as usize;
        let bucket = &mut self.buckets[level * DIGITS + digit];
        if bucket.filling.len() == bucket.filling.capacity() {
            // A new block starts small and doubles up to BLOCK, so that a small run does not
            // pay for pages it never fills; a full-size block is chained instead.
            if bucket.filling.capacity() == 0 {
                bucket.filling = self.pool.pop().unwrap_or_else(|| Vec::with_capacity(FIRST_BLOCK));
            } else if bucket.filling.capacity() >= BLOCK {
                let fresh = self.pool.pop().unwrap_or_else(|| Vec::with_capacity(FIRST_BLOCK));
                bucket.full.push(std::mem::replace(&mut bucket.filling, fresh));
            }
        }
        bucket.filling.push((time, event));
        bucket.count += 1;
        self.digits[level][digit / 64] |= 1 << (digit % 64);
        self.levels |= 1 << level;
    }

    /// The lowest non-empty bucket at or after `(level, from)`, on that level only.
    fn next_digit(&self, level: usize, from: usize) -> Option<usize> {
        let words = &self.digits[level];
        let mut word = from / 64;
        let mut bits = words.get(word)? & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(word * 64 + bits.trailing_zeros() as usize);
            }
            word += 1;
            bits = *words.get(word)?;
        }
    }

    /// Empties bucket `(level, digit)`, handing its events to `each` in push order.
    fn drain_bucket(&mut self, level: usize, digit: usize, mut each: impl FnMut(&mut Self, &mut Block<E>)) {
        self.digits[level][digit / 64] &= !(1 << (digit % 64));
        if self.digits[level] == [0; 4] {
            self.levels &= !(1 << level);
        }
        let bucket = &mut self.buckets[level * DIGITS + digit];
        bucket.count = 0;
        let mut full = std::mem::take(&mut bucket.full);
        let mut filling = std::mem::take(&mut bucket.filling);
        for mut block in full.drain(..) {
            each(self, &mut block);
            self.pool.push(block);
        }
        each(self, &mut filling);
        self.pool.push(filling);
        // Keep the list's capacity, unless the bucket got a new one meanwhile (a split only
        // ever fills lower levels, so it cannot).
        self.buckets[level * DIGITS + digit].full = full;
    }

    /// Moves the earliest bucketed events into the empty `front` (`late` is empty too); false
    /// when there are none.
    #[inline(never)]
    fn refill_front(&mut self) -> bool {
        debug_assert!(self.front.is_empty());
        loop {
            if self.levels == 0 {
                return false;
            }
            let level = self.levels.trailing_zeros() as usize;
            let digit = self.next_digit(level, 0).expect("an occupied level has an occupied bucket");
            let shift = 8 * level;
            let above = if level == LEVELS - 1 { 0 } else { self.base & (!0u64 << (shift + 8)) };
            self.base = above | ((digit as u64) << shift);
            if level > 0 && self.buckets[level * DIGITS + digit].count as usize > FRONT_BATCH {
                // Split one level down around the bucket's start; the levels below are empty.
                self.drain_bucket(level, digit, |queue, block| {
                    for (time, event) in block.drain(..) {
                        queue.place(time, event);
                    }
                });
                continue;
            }
            let mut next = Some(digit);
            while let Some(d) = next {
                let start = self.front.len();
                self.drain_bucket(level, d, |queue, block| queue.front.append(block));
                if level > 0 {
                    sort_by_time(&mut self.front[start..], &mut self.sort_keys, &mut self.sort_copy);
                }
                next = self
                    .next_digit(level, d + 1)
                    .filter(|&n| self.front.len() + self.buckets[level * DIGITS + n].count as usize <= FRONT_BATCH);
            }
            // Latest first, and the reversal of a stable sort puts the first pushed last.
            self.front.reverse();
            // Not the end of the buckets' range: a burst landing later in that range goes to
            // buckets, not into `late`.
            self.front_last = self.front[0].0;
            return true;
        }
    }
}

/// A stable sort by time of at most `FRONT_BATCH` entries of one bucket: insertion sort for the
/// short runs that are the rule; otherwise a sort of integer keys (the time's offset in the
/// bucket, then the position, which keeps it stable) and one gather through `copy`.
fn sort_by_time<E: Copy>(entries: &mut [(u64, E)], keys: &mut Vec<u64>, copy: &mut Vec<(u64, E)>) {
    debug_assert!(entries.len() <= FRONT_BATCH && FRONT_BATCH <= 256);
    if entries.len() <= 24 {
        for i in 1..entries.len() {
            let mut j = i;
            while j > 0 && entries[j - 1].0 > entries[j].0 {
                entries.swap(j - 1, j);
                j -= 1;
            }
        }
        return;
    }
    let start = entries.iter().map(|&(time, _)| time).min().expect("not empty");
    keys.clear();
    // One bucket spans less than 2^56 µs, so the offset shifted by 8 bits still fits.
    keys.extend(entries.iter().enumerate().map(|(i, &(time, _))| ((time - start) << 8) | i as u64));
    keys.sort_unstable();
    copy.clear();
    copy.extend_from_slice(entries);
    for (slot, key) in entries.iter_mut().zip(keys.iter()) {
        *slot = copy[(key & 0xff) as usize];
    }
}

impl<E: Copy> EventQueue<E> for RadixQueue<E> {
    #[inline]
    fn push(&mut self, time: SimTime, event: E) {
        let time = time.0;
        // (Below `base` only after an `unpop`, and then not later than `front_last`.)
        debug_assert!(time >= self.base || time <= self.front_last, "event scheduled in the past");
        self.len += 1;
        if time > self.front_last {
            self.place(time, event);
        } else if self.late.is_empty() {
            // Its place in `front`, if it is among the few soonest (short delays usually are):
            // after every entry due at or before it, found from the soon end.
            let len = self.front.len();
            let stop = len.saturating_sub(NEAR_SCAN);
            let mut at = len;
            while at > stop && self.front[at - 1].0 <= time {
                at -= 1;
            }
            if at > 0 && at == stop && self.front[at - 1].0 <= time {
                self.late.push(SimTime(time), event);
            } else {
                self.front.insert(at, (time, event));
            }
        } else if self.front.last().is_none_or(|&(t, _)| time < t) && self.late.peek_time().is_none_or(|t| time < t) {
            self.front.push((time, event));
        } else {
            self.late.push(SimTime(time), event);
        }
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.front.is_empty() && self.late.is_empty() && !self.refill_front() {
            return None;
        }
        self.len -= 1;
        let from_late = match (self.front.last(), self.late.peek_time()) {
            (Some(&(front, _)), Some(late)) => late < front,
            (front, _) => front.is_none(),
        };
        if from_late {
            return self.late.pop();
        }
        self.front.pop().map(|(time, event)| (SimTime(time), event))
    }

    /// Looks at `front` and `late` only, and moves nothing: an event due at the time of the last
    /// pop is never in a bucket. That time is at most `front_last` (it was popped from `front`,
    /// or from `late`, which holds nothing later than `front_last`), so a push at it goes to
    /// `front` or `late`. (Refilling `front` here would move `base` past the current instant, and
    /// a push at that instant would then land in the wrong bucket.)
    fn pending_at(&self, time: SimTime) -> bool {
        self.front.last().is_some_and(|&(t, _)| t == time.0) || self.late.peek_time() == Some(time.0)
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

impl<E> HeapQueue<E> {
    fn peek_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(e)| e.time)
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

    fn pending_at(&self, time: SimTime) -> bool {
        self.peek_time() == Some(time.0)
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

    /// How far ahead pushes land, so that every path of the radix queue is taken: many events at
    /// one instant, buckets bigger than `FRONT_BATCH` that must be split, pushes into the sorted
    /// front, and times at the very end of the range.
    #[derive(Clone, Copy)]
    enum Spread {
        /// Often now, sometimes a few µs, a second or days ahead.
        Mixed,
        /// A handful of distinct instants, thousands of events each.
        Clustered,
        /// Bursts of pushes (a whole job's CVMs at once), then pops.
        Bursts,
    }

    /// Drives a queue with a random mix of pushes (never before the current time) and pops, and
    /// returns the popped sequence.
    fn drive(queue: &mut dyn EventQueue<u32>, seed: u64, spread: Spread, start: u64) -> Vec<(SimTime, u32)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut now = start;
        let mut popped = Vec::new();
        let mut label = 0u32;
        let mut push = |queue: &mut dyn EventQueue<u32>, rng: &mut ChaCha8Rng, now: u64| {
            let ahead = match spread {
                Spread::Mixed => match rng.random_range(0..4) {
                    0 => 0,
                    1 => rng.random_range(0..8),
                    2 => rng.random_range(0..1_000_000),
                    _ => rng.random_range(0..1u64 << 40),
                },
                Spread::Clustered => rng.random_range(0..4) * 1_000,
                Spread::Bursts => rng.random_range(0..50_000_000),
            };
            queue.push(SimTime(now.saturating_add(ahead)), label);
            label += 1;
        };
        for round in 0..20_000 {
            let pushes = match spread {
                Spread::Bursts if round % 2_000 == 0 => 3_000,
                _ => usize::from(rng.random_bool(0.55)),
            };
            for _ in 0..pushes {
                push(queue, &mut rng, now);
            }
            if pushes == 0 {
                let due_now = !popped.is_empty() && queue.pending_at(SimTime(now));
                if let Some((t, e)) = queue.pop() {
                    if !popped.is_empty() {
                        assert_eq!(due_now, t.0 == now, "pending_at tells whether the next pop is due now");
                    }
                    now = t.0;
                    popped.push((t, e));
                }
            }
        }
        while let Some((t, e)) = queue.pop() {
            popped.push((t, e));
        }
        assert!(queue.is_empty());
        popped
    }

    #[test]
    fn radix_queue_pops_in_the_same_order_as_the_reference_heap() {
        let cases = [
            (Spread::Mixed, 0),
            (Spread::Clustered, 0),
            (Spread::Bursts, 0),
            (Spread::Mixed, u64::MAX - (1 << 41)),
            (Spread::Clustered, u64::MAX - 2_500),
        ];
        for (spread, start) in cases {
            for seed in 0..6 {
                let radix = drive(&mut RadixQueue::new(), seed, spread, start);
                let heap = drive(&mut HeapQueue::default(), seed, spread, start);
                assert!(radix.len() > 10_000);
                assert_eq!(radix, heap, "seed {seed}, start {start}");
            }
        }
    }

    #[test]
    fn a_big_bucket_is_split_and_stays_in_time_then_push_order() {
        // 10 * FRONT_BATCH events over 100 instants, pushed in an order unrelated to time, then
        // one push into the middle of the sorted front.
        let mut q = RadixQueue::new();
        let n = 10 * FRONT_BATCH as u32;
        for label in 0..n {
            q.push(SimTime(1_000_000 + u64::from((label * 37) % 100) * 1_000), label);
        }
        let (t0, first) = q.pop().expect("not empty");
        assert_eq!((t0, first), (SimTime(1_000_000), 0));
        assert!(q.peek(FRONT_BATCH / 4).is_some(), "the front holds a sorted batch to look ahead");
        q.push(SimTime(1_001_000), n);
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        let mut expected: Vec<_> = (1..=n)
            .map(|l| {
                let t = if l == n { 1_001_000 } else { 1_000_000 + u64::from((l * 37) % 100) * 1_000 };
                (SimTime(t), l)
            })
            .collect();
        expected.sort_by_key(|&(t, _)| t);
        assert_eq!(rest, expected);
    }
    /// Adversarial mixes against the reference heap: times at `front_last` and just past it,
    /// on bucket boundaries, at and near `u64::MAX`; bursts of up to 1,500 pushes at one
    /// instant or spread out; runs of up to 3,000 pops (adapted from a review's stress test).
    #[test]
    fn adversarial_pushes_pop_in_the_reference_order() {
        fn choose(rng: &mut ChaCha8Rng, now: u64, q: &RadixQueue<u32>) -> u64 {
            let (last, base) = (q.front_last, q.base);
            let t = match rng.random_range(0..12) {
                0 => now,
                1 => last,
                2 => last.saturating_add(1),
                3 => now.saturating_add(rng.random_range(0..4)),
                4 => {
                    let bits = rng.random_range(0..64u32);
                    now.saturating_add(rng.random_range(0..=(1u64 << bits)))
                }
                5 => u64::MAX - rng.random_range(0..300),
                6 => now.saturating_add(rng.random_range(0..=u64::MAX - now)),
                7 => base.saturating_add(rng.random_range(0..=last.saturating_sub(base).saturating_add(1))),
                8 => {
                    let shift = 8 * rng.random_range(0..8u32);
                    let aligned = if shift == 0 { now } else { now | ((1u64 << shift) - 1) };
                    aligned.saturating_add(rng.random_range(0..3))
                }
                9 => last.saturating_add(rng.random_range(0..600)),
                _ => now.saturating_add(rng.random_range(0..2000)),
            };
            t.max(now)
        }
        let starts = [0u64, 255, 256, 1 << 40, (1 << 56) - 1, 1 << 56, u64::MAX - (1 << 20), u64::MAX - 1, u64::MAX];
        for seed in 0..4 {
            for &start in &starts {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ start);
                let (mut radix, mut heap) = (RadixQueue::new(), HeapQueue::default());
                let (mut now, mut label) = (start, 0u32);
                let mut push = |radix: &mut RadixQueue<u32>, heap: &mut HeapQueue<u32>, t: u64| {
                    radix.push(SimTime(t), label);
                    heap.push(SimTime(t), label);
                    label += 1;
                };
                push(&mut radix, &mut heap, start);
                for _ in 0..2_000 {
                    if rng.random_bool(0.03) {
                        let same = rng.random_bool(0.5);
                        let t0 = choose(&mut rng, now, &radix);
                        for _ in 0..rng.random_range(1..1500) {
                            let t = if same { t0 } else { choose(&mut rng, now, &radix) };
                            push(&mut radix, &mut heap, t);
                        }
                    } else if rng.random_bool(0.5) {
                        let t = choose(&mut rng, now, &radix);
                        push(&mut radix, &mut heap, t);
                    } else {
                        for _ in 0..if rng.random_bool(0.1) { rng.random_range(1..3000) } else { 1 } {
                            let (r, h) = (radix.pop(), heap.pop());
                            assert_eq!(r, h, "seed {seed}, start {start}");
                            match h {
                                Some((t, _)) => now = t.0,
                                None => break,
                            }
                        }
                    }
                    assert_eq!(radix.len(), heap.len());
                }
                let rest: Vec<_> = std::iter::from_fn(|| radix.pop()).collect();
                assert_eq!(rest, std::iter::from_fn(|| heap.pop()).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn a_burst_later_in_a_sparse_front_range_goes_to_buckets_not_the_front() {
        // The front is filled from one sparse bucket covering a long range; a big burst later in
        // that range must not pile into the front (each push there used to cost a scan of it).
        let mut q = RadixQueue::new();
        q.push(SimTime(1_000), 0u32);
        q.push(SimTime(5_000_000_000), 1);
        assert_eq!(q.pop(), Some((SimTime(1_000), 0)));
        for k in 0..10_000u32 {
            q.push(SimTime(2_000_000 + u64::from(k) * 1_000), 2 + k);
        }
        assert!(q.front.len() + q.late.len() <= 2, "front {} late {}", q.front.len(), q.late.len());
        let times: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|(t, _)| t.0).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]) && times.len() == 10_001);
    }

    #[test]
    fn a_chain_of_same_instant_events_goes_to_the_late_heap_not_the_front() {
        // 1,000 events at one instant, each popped one scheduling another at that instant: FIFO,
        // and the front never takes a push (the instant's 1,000 fill it, as one level-0 bucket).
        let mut q = RadixQueue::new();
        for label in 0..1_000u32 {
            q.push(SimTime(7), label);
        }
        let mut order = Vec::new();
        while let Some((t, label)) = q.pop() {
            assert!(q.front.len() < 1_000);
            order.push(label);
            if label < 2_000 {
                q.push(t, label + 1_000);
            }
        }
        assert_eq!(order, (0..3_000).collect::<Vec<u32>>());
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
