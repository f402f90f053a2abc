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

/// Packs `values`, `width` bits each, least significant bit first, as Parquet's bit-packing
/// does; `values.len() * width` must be a multiple of 8 (callers pad to groups of 8 values).
fn bit_pack(values: impl Iterator<Item = u64>, width: u32, out: &mut Vec<u8>) {
    let mut acc: u128 = 0;
    let mut bits = 0u32;
    for v in values {
        acc |= u128::from(v) << bits;
        bits += width;
        while bits >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            bits -= 8;
        }
    }
    debug_assert_eq!(bits, 0, "whole groups of 8 values fill whole bytes");
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
        let padding = std::iter::repeat_n(0, groups * 8 - (end - start));
        bit_pack(values[start..end].iter().map(|&v| u64::from(v)).chain(padding), width, out);
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
    let mut block = [0i64; BLOCK];
    let mut next = 1;
    while next < values.len() {
        let end = (next + BLOCK).min(values.len());
        for (d, k) in block.iter_mut().zip(next..end) {
            *d = values[k].wrapping_sub(values[k - 1]);
        }
        let deltas = &block[..end - next];
        next = end;
        let min = deltas.iter().copied().min().expect("a block is never empty");
        varint(out, zigzag(min));
        let mut widths = [0u8; MINIBLOCKS];
        for (width, mini) in widths.iter_mut().zip(deltas.chunks(MINIBLOCK)) {
            let max = mini.iter().map(|d| d.wrapping_sub(min) as u64).max().unwrap_or(0);
            *width = if max == 0 { 0 } else { (64 - max.leading_zeros()) as u8 };
        }
        out.extend_from_slice(&widths);
        for (&width, mini) in widths.iter().zip(deltas.chunks(MINIBLOCK)) {
            let padding = std::iter::repeat_n(0, MINIBLOCK - mini.len());
            bit_pack(mini.iter().map(|d| d.wrapping_sub(min) as u64).chain(padding), u32::from(width), out);
        }
    }
}

/// BYTE_STREAM_SPLIT of doubles: byte `k` of every value, then byte `k + 1`... Times rise
/// slowly, so their high bytes repeat and zstd compresses the split form several times faster
/// than the plain one (docs/speed.md).
pub(super) fn byte_stream_split(values: &[f64], out: &mut Vec<u8>) {
    let n = values.len();
    let start = out.len();
    out.resize(start + 8 * n, 0);
    let streams = &mut out[start..];
    for (j, v) in values.iter().enumerate() {
        for (k, byte) in v.to_le_bytes().into_iter().enumerate() {
            streams[k * n + j] = byte;
        }
    }
}

/// DELTA_BYTE_ARRAY of the strings `bytes[ends[i-1]..ends[i]]`: each value as the length of the
/// prefix it shares with the one before and the rest. Ids in time order share long prefixes
/// (`job-…/TASK/`), so this leaves zstd a third of the bytes of the plain form.
pub(super) fn delta_byte_array(bytes: &[u8], ends: &[u32], out: &mut Vec<u8>) {
    let mut prefixes = Vec::with_capacity(ends.len());
    let mut suffixes = Vec::with_capacity(ends.len());
    let mut suffix_bytes = Vec::with_capacity(bytes.len() / 2);
    let mut previous: &[u8] = &[];
    let mut start = 0;
    for &end in ends {
        let value = &bytes[start..end as usize];
        let shared = value.iter().zip(previous).take_while(|(a, b)| a == b).count();
        prefixes.push(shared as i64);
        suffixes.push((value.len() - shared) as i64);
        suffix_bytes.extend_from_slice(&value[shared..]);
        previous = value;
        start = end as usize;
    }
    delta_binary_packed(&prefixes, out);
    delta_binary_packed(&suffixes, out);
    out.extend_from_slice(&suffix_bytes);
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
        bit_pack(0..8u64, 3, &mut out);
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
}
