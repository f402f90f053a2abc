//! Parquet's value encodings, written straight from the writers' column buffers.
//!
//! The `parquet` crate's column writers take values one by one through generic encoders that
//! hash every dictionary value and allocate per string: measured on a 10-million-row timeline
//! they spent 180 to 440 ns a row, the whole budget of a 10-million-instance run ten times over
//! (docs/speed.md). The encodings themselves are small and fixed by the format
//! (<https://parquet.apache.org/docs/file-format/data-pages/encodings/>), and our columns' values
//! are already small integers, doubles and short ids, so they are encoded here, as byte
//! buffers; the crate still writes the page headers, the column chunks' metadata and the footer
//! ([`super::table`]).

/// ULEB128, Parquet's unsigned varint.
pub(super) fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Bits needed for `max` (at least 1: readers differ on width 0).
pub(super) fn bit_width(max: u64) -> u32 {
    (64 - max.leading_zeros()).max(1)
}

/// Packs `values` (each below `2^width`, `width` at most 32), least significant bit first, as
/// Parquet's bit-packing does; `values.len() * width` must be a multiple of 8 (callers pad to
/// groups of 8 values).
fn bit_pack(values: &[u32], width: u32, out: &mut Vec<u8>) {
    debug_assert!(width <= 32);
    let mut acc: u64 = 0;
    let mut bits = 0u32;
    for &v in values {
        acc |= u64::from(v) << bits;
        bits += width;
        if bits >= 32 {
            out.extend_from_slice(&(acc as u32).to_le_bytes());
            acc >>= 32;
            bits -= 32;
        }
    }
    debug_assert_eq!(bits % 8, 0, "whole groups of 8 values fill whole bytes");
    out.extend_from_slice(&acc.to_le_bytes()[..bits as usize / 8]);
}

/// As [`bit_pack`], for a miniblock of 64-bit values of any width.
fn bit_pack_wide(values: &[u64; 32], width: u32, out: &mut Vec<u8>) {
    if width == 0 {
        return;
    }
    if width <= 32 {
        let mut acc: u64 = 0;
        let mut bits = 0u32;
        for &v in values {
            acc |= v << bits;
            bits += width;
            if bits >= 32 {
                out.extend_from_slice(&(acc as u32).to_le_bytes());
                acc >>= 32;
                bits -= 32;
            }
        }
        out.extend_from_slice(&acc.to_le_bytes()[..bits as usize / 8]);
        return;
    }
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for &v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
}

/// Appends a short slice without a call to `memcpy`: ids are 10 to 40 bytes, and a library
/// call per id cost more than the rest of the work on it.
#[inline(always)]
pub(crate) fn append(out: &mut Vec<u8>, src: &[u8]) {
    let n = src.len();
    if n > 32 {
        out.extend_from_slice(src);
        return;
    }
    out.reserve(32);
    let len = out.len();
    // SAFETY: `reserve(32)` leaves room for at least 32 bytes after `len`, and every copy below
    // writes inside `len..len + n` with `n <= 32`, reading inside `src`; the ranges overlap
    // each other (the same bytes written twice) but never `src`, which `out` cannot alias while
    // it is borrowed mutably. All `n` bytes are written before `set_len`.
    unsafe {
        let (s, d) = (src.as_ptr(), out.as_mut_ptr().add(len));
        if n >= 16 {
            std::ptr::copy_nonoverlapping(s, d, 16);
            std::ptr::copy_nonoverlapping(s.add(n - 16), d.add(n - 16), 16);
        } else if n >= 8 {
            std::ptr::copy_nonoverlapping(s, d, 8);
            std::ptr::copy_nonoverlapping(s.add(n - 8), d.add(n - 8), 8);
        } else if n >= 4 {
            std::ptr::copy_nonoverlapping(s, d, 4);
            std::ptr::copy_nonoverlapping(s.add(n - 4), d.add(n - 4), 4);
        } else {
            for i in 0..n {
                *d.add(i) = *s.add(i);
            }
        }
        out.set_len(len + n);
    }
}

/// Length of the run of equal values that starts at `at`, counting at most to `limit`.
fn run_length(values: &[u32], at: usize, limit: usize) -> usize {
    let first = values[at];
    values[at..].iter().take(limit).take_while(|&&v| v == first).count()
}

/// The RLE / bit-packed hybrid of `values` (each below `2^width`), without a length prefix.
///
/// A run of 8 or more equal values becomes an RLE run; the rest is bit-packed in groups of 8.
/// A bit-packed stretch only ends where a run begins 8, 16, ... values after its start, so the
/// padding of a group never falls anywhere but after the last value.
pub(super) fn rle_hybrid(values: &[u32], width: u32, out: &mut Vec<u8>) {
    let value_bytes = width.div_ceil(8) as usize;
    let n = values.len();
    let mut at = 0;
    while at < n {
        let run = run_length(values, at, usize::MAX);
        if run >= 8 {
            varint(out, (run as u64) << 1);
            out.extend_from_slice(&values[at].to_le_bytes()[..value_bytes]);
            at += run;
            continue;
        }
        let start = at;
        let mut end = (start + 8).min(n);
        while end < n && run_length(values, end, 8) < 8 {
            end = (end + 8).min(n);
        }
        let groups = (end - start).div_ceil(8);
        varint(out, (groups as u64) << 1 | 1);
        let whole = start + (end - start) / 8 * 8;
        bit_pack(&values[start..whole], width, out);
        if whole < end {
            let mut last = [0u32; 8];
            last[..end - whole].copy_from_slice(&values[whole..end]);
            bit_pack(&last, width, out);
        }
        at = end;
    }
}

/// DELTA_BINARY_PACKED: blocks of 128 deltas in 4 miniblocks of 32.
pub(super) fn delta_binary_packed(values: &[i64], out: &mut Vec<u8>) {
    const BLOCK: usize = 128;
    const MINIBLOCKS: usize = 4;
    const MINIBLOCK: usize = BLOCK / MINIBLOCKS;
    varint(out, BLOCK as u64);
    varint(out, MINIBLOCKS as u64);
    varint(out, values.len() as u64);
    varint(out, zigzag(values.first().copied().unwrap_or(0)));
    let mut deltas = [0i64; BLOCK];
    let mut offsets = [0u64; BLOCK];
    let mut next = 1;
    while next < values.len() {
        let end = (next + BLOCK).min(values.len());
        let count = end - next;
        let mut min = i64::MAX;
        for (k, d) in deltas[..count].iter_mut().enumerate() {
            *d = values[next + k].wrapping_sub(values[next + k - 1]);
            min = min.min(*d);
        }
        varint(out, zigzag(min));
        for (o, d) in offsets.iter_mut().zip(&deltas[..count]) {
            *o = d.wrapping_sub(min) as u64;
        }
        // The last block's last miniblock is padded with zeros.
        offsets[count..].fill(0);
        let mut widths = [0u8; MINIBLOCKS];
        for (width, mini) in widths.iter_mut().zip(offsets.chunks_exact(MINIBLOCK)) {
            *width = (64 - mini.iter().fold(0, |all, &o| all | o).leading_zeros()) as u8;
        }
        out.extend_from_slice(&widths);
        for (m, &width) in widths.iter().enumerate().take(count.div_ceil(MINIBLOCK)) {
            let mini: &[u64; MINIBLOCK] = offsets[m * MINIBLOCK..][..MINIBLOCK].try_into().expect("a miniblock");
            bit_pack_wide(mini, u32::from(width), out);
        }
        next = end;
    }
}

/// BYTE_STREAM_SPLIT of doubles: byte `k` of every value, then byte `k + 1`... Times rise
/// slowly, so their high bytes repeat and zstd compresses the split form several times faster
/// than the plain one (docs/speed.md).
pub(super) fn byte_stream_split(values: &[f64], out: &mut Vec<u8>) {
    let n = values.len();
    let start = out.len();
    out.resize(start + 8 * n, 0);
    let (s0, rest) = out[start..].split_at_mut(n);
    let (s1, rest) = rest.split_at_mut(n);
    let (s2, rest) = rest.split_at_mut(n);
    let (s3, rest) = rest.split_at_mut(n);
    let (s4, rest) = rest.split_at_mut(n);
    let (s5, rest) = rest.split_at_mut(n);
    let (s6, s7) = rest.split_at_mut(n);
    for (j, v) in values.iter().enumerate() {
        let b = v.to_le_bytes();
        (s0[j], s1[j], s2[j], s3[j], s4[j], s5[j], s6[j], s7[j]) = (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    }
}

/// DELTA_BYTE_ARRAY, worked out value by value as they come: each value is the length of the
/// prefix it shares with the one before and the rest. Ids in time order share long prefixes
/// (`job-…/TASK/`), so this leaves zstd two thirds of the bytes of the plain form. A value is
/// written into `value` (a buffer kept from one value to the next), compared with the one
/// before and its suffix appended: no value is stored whole, no page is read twice.
#[derive(Default)]
pub(super) struct DeltaByteArray {
    prefixes: Vec<i64>,
    suffixes: Vec<i64>,
    suffix_bytes: Vec<u8>,
    previous: Vec<u8>,
    value: Vec<u8>,
}

impl DeltaByteArray {
    /// A value, written by `write` into the encoder's buffer.
    #[inline]
    pub(super) fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.value.clear();
        write(&mut self.value);
        let shared = shared_prefix(&self.value, &self.previous);
        self.prefixes.push(shared as i64);
        self.suffixes.push((self.value.len() - shared) as i64);
        append(&mut self.suffix_bytes, &self.value[shared..]);
        std::mem::swap(&mut self.value, &mut self.previous);
    }

    /// The page's values, encoded into `out`; the encoder starts a new page.
    pub(super) fn finish_page(&mut self, out: &mut Vec<u8>) {
        delta_binary_packed(&self.prefixes, out);
        delta_binary_packed(&self.suffixes, out);
        out.extend_from_slice(&self.suffix_bytes);
        self.prefixes.clear();
        self.suffixes.clear();
        self.suffix_bytes.clear();
        self.previous.clear();
    }
}

/// How many bytes `a` and `b` share at their start, compared eight at a time.
#[inline]
fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("8 bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n].iter().zip(&b[i..n]).take_while(|(x, y)| x == y).count()
}

/// PLAIN byte arrays (a dictionary page): each value's length as 4 bytes, then the value.
pub(super) fn plain_byte_arrays<'a>(values: impl Iterator<Item = &'a [u8]>, out: &mut Vec<u8>) {
    for v in values {
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zigzag_are_as_the_format_says() {
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
        assert_eq!([zigzag(0), zigzag(-1), zigzag(1), zigzag(-2)], [0, 1, 2, 3]);
    }

    #[test]
    fn bit_packing_is_least_significant_bit_first() {
        // The format's own example: 0..=7 with width 3 is 10001000 11000110 11111010.
        let mut out = Vec::new();
        bit_pack(&[0, 1, 2, 3, 4, 5, 6, 7], 3, &mut out);
        assert_eq!(out, [0b1000_1000, 0b1100_0110, 0b1111_1010]);
    }

    #[test]
    fn runs_of_eight_become_rle_and_the_rest_is_packed() {
        let mut out = Vec::new();
        rle_hybrid(&[5; 20], 3, &mut out);
        assert_eq!(out, [20 << 1, 5], "one RLE run: header (20 << 1), the value in one byte");

        // Three values then a run of 9: one bit-packed group holds the three and five of the
        // run, and the last four of the run are too short for RLE (a second group, padded).
        let mut values = vec![1, 2, 3];
        values.extend([7; 9]);
        let mut out = Vec::new();
        rle_hybrid(&values, 3, &mut out);
        assert_eq!(out[0], (2 << 1) | 1, "two bit-packed groups");
        assert_eq!(out.len(), 1 + 2 * 3);
    }

    #[test]
    fn byte_stream_split_puts_byte_k_of_every_value_in_stream_k() {
        // 19 values: a count that no power of two divides.
        let values: Vec<f64> = (0..19).map(|i| f64::from_bits(0x0102_0304_0506_0708u64.wrapping_mul(i + 1))).collect();
        let mut out = vec![0xaa];
        byte_stream_split(&values, &mut out);
        assert_eq!(out.len(), 1 + 8 * 19);
        for (j, v) in values.iter().enumerate() {
            for (k, byte) in v.to_le_bytes().into_iter().enumerate() {
                assert_eq!(out[1 + k * 19 + j], byte, "value {j}, byte {k}");
            }
        }
    }
}
