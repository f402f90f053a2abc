use termsim::engine::{EventQueue, SimTime};

const BITS: usize = 8;
const LEVELS: usize = 64usize.div_ceil(BITS);
const DIGITS: usize = 1 << BITS;
const WORDS: usize = DIGITS / 64;
pub const FRONT_BATCH: usize = 256;
const BLOCK: usize = 256;

type Entry<E> = (u64, E);

pub struct RadixQueue<E> {
    /// Sorted latest first: pops take the last entry.
    front: Vec<Entry<E>>,
    front_last: u64,
    base: u64,
    /// Each bucket: a list of blocks of at most BLOCK entries, the last one partly filled.
    buckets: Box<[Vec<Vec<Entry<E>>>]>,
    counts: Box<[u32]>,
    /// Empty blocks, most recently freed last (warm in cache).
    pool: Vec<Vec<Entry<E>>>,
    digits: [[u64; WORDS]; LEVELS],
    levels: u8,
    len: usize,
}

impl<E> RadixQueue<E> {
    pub fn new() -> Self {
        RadixQueue {
            front: Vec::with_capacity(FRONT_BATCH),
            front_last: 0,
            base: 0,
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            counts: vec![0; LEVELS * DIGITS].into_boxed_slice(),
            pool: Vec::new(),
            digits: [[0; WORDS]; LEVELS],
            levels: 0,
            len: 0,
        }
    }

    pub fn peek(&self, n: usize) -> Option<&E> {
        self.front.len().checked_sub(n + 1).map(|i| &self.front[i].1)
    }

    #[inline]
    fn bucket_of(&self, time: u64) -> (usize, usize) {
        let diff = time ^ self.base;
        let level = if diff == 0 { 0 } else { (63 - diff.leading_zeros() as usize) / BITS };
        (level, ((time >> (BITS * level)) & (DIGITS as u64 - 1)) as usize)
    }

    #[inline]
    fn place(&mut self, time: u64, event: E) {
        let (level, digit) = self.bucket_of(time);
        let b = level * DIGITS + digit;
        let blocks = &mut self.buckets[b];
        match blocks.last_mut() {
            Some(last) if last.len() < BLOCK => last.push((time, event)),
            _ => {
                let mut block = self.pool.pop().unwrap_or_else(|| Vec::with_capacity(BLOCK));
                block.push((time, event));
                blocks.push(block);
            }
        }
        self.counts[b] += 1;
        self.digits[level][digit / 64] |= 1 << (digit % 64);
        self.levels |= 1 << level;
    }

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

    fn take_bucket(&mut self, level: usize, digit: usize) -> Vec<Vec<Entry<E>>> {
        self.digits[level][digit / 64] &= !(1 << (digit % 64));
        if self.digits[level] == [0; WORDS] {
            self.levels &= !(1 << level);
        }
        self.counts[level * DIGITS + digit] = 0;
        std::mem::take(&mut self.buckets[level * DIGITS + digit])
    }

    fn give_back(&mut self, b: usize, mut blocks: Vec<Vec<Entry<E>>>) {
        for mut block in blocks.drain(..) {
            block.clear();
            self.pool.push(block);
        }
        if self.buckets[b].capacity() < blocks.capacity() {
            self.buckets[b] = blocks;
        }
    }

    fn refill_front(&mut self) -> bool {
        debug_assert!(self.front.is_empty());
        loop {
            if self.levels == 0 {
                return false;
            }
            let level = self.levels.trailing_zeros() as usize;
            let digit = self.next_digit(level, 0).expect("occupied");
            let shift = BITS * level;
            let above = if shift + BITS >= 64 { 0 } else { self.base & (!0u64 << (shift + BITS)) };
            self.base = above | ((digit as u64) << shift);
            if level > 0 && self.counts[level * DIGITS + digit] as usize > FRONT_BATCH {
                let mut blocks = self.take_bucket(level, digit);
                for block in blocks.iter_mut() {
                    for (time, event) in block.drain(..) {
                        self.place(time, event);
                    }
                }
                self.give_back(level * DIGITS + digit, blocks);
                continue;
            }
            let mut last_digit = digit;
            let mut next = Some(digit);
            while let Some(d) = next {
                last_digit = d;
                let mut blocks = self.take_bucket(level, d);
                let start = self.front.len();
                for block in blocks.iter_mut() {
                    self.front.append(block);
                }
                self.give_back(level * DIGITS + d, blocks);
                if level > 0 {
                    sort_by_time(&mut self.front[start..]);
                }
                next = self
                    .next_digit(level, d + 1)
                    .filter(|&n| self.front.len() + self.counts[level * DIGITS + n] as usize <= FRONT_BATCH);
            }
            self.front.reverse();
            self.front_last =
                (self.base & !((DIGITS as u64 - 1) << shift)) | ((last_digit as u64) << shift) | ((1u64 << shift) - 1);
            return true;
        }
    }
}

/// Stable: insertion sort for the short runs that are the rule, the standard sort otherwise.
fn sort_by_time<E>(entries: &mut [Entry<E>]) {
    if entries.len() > 24 {
        entries.sort_by_key(|&(t, _)| t);
        return;
    }
    for i in 1..entries.len() {
        let mut j = i;
        while j > 0 && entries[j - 1].0 > entries[j].0 {
            entries.swap(j - 1, j);
            j -= 1;
        }
    }
}

impl<E> EventQueue<E> for RadixQueue<E> {
    #[inline]
    fn push(&mut self, time: SimTime, event: E) {
        let time = time.0;
        self.len += 1;
        if time > self.front_last {
            self.place(time, event);
            return;
        }
        // Latest first: the new event goes before every entry due at or before its time.
        let mut at = self.front.len();
        while at > 0 && self.front[at - 1].0 <= time {
            at -= 1;
        }
        self.front.insert(at, (time, event));
    }

    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.front.is_empty() && !self.refill_front() {
            return None;
        }
        let (time, event) = self.front.pop().expect("refilled above");
        self.len -= 1;
        Some((SimTime(time), event))
    }

    fn len(&self) -> usize {
        self.len
    }
}
