//! Generated identifiers, deterministic functions of the seed and a counter (SPEC §1.7b).
//!
//! Inside the model every entity is an integer; strings are made only when outputs are written.

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const SUFFIX_SPACE: u128 = 36u128.pow(8);
/// A prime larger than 3, hence coprime with 36^8: `n -> (n * STRIDE + offset) mod 36^8` is a
/// permutation, so distinct counters give distinct ids that do not look sequential.
const STRIDE: u128 = 1_234_567_891;

/// The splitmix64 finaliser: a bijection on `u64` with good mixing.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `ins-` + 8 lowercase letters and digits for the `n`-th CVM of a run.
#[cfg(test)]
fn cvm_id(seed: u64, n: u64) -> [u8; 12] {
    CvmIds::new(seed).id(n)
}

/// The CVM ids of one run: the seed's part worked out once, for writers that name millions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CvmIds {
    offset: u64,
}

impl CvmIds {
    pub(crate) fn new(seed: u64) -> Self {
        CvmIds { offset: (u128::from(mix64(seed)) % SUFFIX_SPACE) as u64 }
    }

    /// The id of the `n`-th CVM, as [`cvm_id`].
    #[inline]
    pub(crate) fn id(self, n: u64) -> [u8; 12] {
        const SPACE: u64 = SUFFIX_SPACE as u64;
        // The model counts CVMs in a u32: then `n * STRIDE + offset` fits a u64 (below 2^63 +
        // 2^42), and the 128-bit division (a library call) is not needed.
        let mut v = if n <= u64::from(u32::MAX) {
            (n * STRIDE as u64 + self.offset) % SPACE
        } else {
            ((u128::from(n) * STRIDE + u128::from(self.offset)) % SUFFIX_SPACE) as u64
        };
        // Two digits at a time from a table of the 1,296 pairs: four divisions instead of eight.
        let mut id = *b"ins-00000000";
        for pair in id[4..].chunks_exact_mut(2).rev() {
            let p = (v % (36 * 36)) as usize * 2;
            pair.copy_from_slice(&BASE36_PAIRS[p..p + 2]);
            v /= 36 * 36;
        }
        id
    }
}

/// Every pair of base-36 digits, in order: `00`, `01`, ... `zz`.
static BASE36_PAIRS: [u8; 2 * 36 * 36] = {
    let mut pairs = [0u8; 2 * 36 * 36];
    let mut i = 0;
    while i < 36 * 36 {
        pairs[2 * i] = BASE36[i / 36];
        pairs[2 * i + 1] = BASE36[i % 36];
        i += 1;
    }
    pairs
};

/// A request id in the 8-4-4-4-12 hexadecimal form of the API's `RequestId`. The first half is
/// a bijection of the counter, so ids never repeat within a run.
pub(crate) fn request_id(seed: u64, n: u64) -> [u8; 36] {
    let hi = mix64(n ^ mix64(seed));
    let lo = mix64(hi ^ 0x5eed_5eed_5eed_5eed);
    let mut v = (u128::from(hi) << 64) | u128::from(lo);
    let mut id = *b"00000000-0000-0000-0000-000000000000";
    for slot in id.iter_mut().rev().filter(|b| **b != b'-') {
        *slot = b"0123456789abcdef"[(v & 0xf) as usize];
        v >>= 4;
    }
    id
}

fn has_suffix_of_eight(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 8 && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// A DLC `TaskId`: a UUID in its 8-4-4-4-12 hexadecimal form, e.g.
/// `4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564` (seed 003).
pub(crate) fn is_dlc_task_id(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `job-` + 8 lowercase letters or digits, e.g. `job-rybewp57`.
pub(crate) fn is_job_id(id: &str) -> bool {
    has_suffix_of_eight(id, "job-")
}

/// `env-` + 8 lowercase letters or digits.
pub(crate) fn is_env_id(id: &str) -> bool {
    has_suffix_of_eight(id, "env-")
}

/// A TAT `InvocationId`: `inv-` + 8 lowercase letters or digits, e.g. `inv-ib2lld37`.
pub(crate) fn is_invocation_id(id: &str) -> bool {
    has_suffix_of_eight(id, "inv-")
}

/// A CVM `InstanceId`: `ins-` + 8 lowercase letters or digits, e.g. `ins-zcewfho0`.
pub(crate) fn is_instance_id(id: &str) -> bool {
    has_suffix_of_eight(id, "ins-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn cvm_ids_have_the_api_form_and_never_repeat() {
        // Both ways of working the id out agree, on either side of the u32 limit.
        for n in [0, 1, 12_345, u64::from(u32::MAX) - 1, u64::from(u32::MAX)] {
            let wide = (u128::from(n) * STRIDE + u128::from(mix64(42)) % SUFFIX_SPACE) % SUFFIX_SPACE;
            let narrow = CvmIds::new(42).id(n);
            let mut v = wide;
            let mut expected = *b"ins-00000000";
            for slot in expected[4..].iter_mut().rev() {
                *slot = BASE36[(v % 36) as usize];
                v /= 36;
            }
            assert_eq!(narrow, expected, "{n}");
        }
        let ids: HashSet<[u8; 12]> = (0..100_000).map(|n| cvm_id(42, n)).collect();
        assert_eq!(ids.len(), 100_000);
        let first = std::str::from_utf8(&cvm_id(42, 0)).unwrap().to_owned();
        assert!(first.starts_with("ins-") && first.len() == 12);
        assert_ne!(cvm_id(42, 0), cvm_id(43, 0), "ids depend on the seed");
    }

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let a = request_id(1, 0);
        assert_eq!(a.iter().filter(|&&b| b == b'-').count(), 4);
        assert_ne!(a, request_id(1, 1));
        // The 128 bits in hexadecimal, most significant first, as `format!` writes them.
        for (seed, n) in [(1, 0), (42, 7), (u64::MAX, u64::MAX), (0, 1 << 40)] {
            let hi = mix64(n ^ mix64(seed));
            let v = (u128::from(hi) << 64) | u128::from(mix64(hi ^ 0x5eed_5eed_5eed_5eed));
            let hex = format!("{v:032x}");
            let expected = format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]);
            assert_eq!(std::str::from_utf8(&request_id(seed, n)).unwrap(), expected);
        }
    }

    #[test]
    fn job_id_form() {
        assert!(is_job_id("job-rybewp57"));
        assert!(!is_job_id("job-RYBEWP57"));
        assert!(!is_job_id("job-rybewp5"));
        assert!(!is_job_id("jb-rybewp57"));
        assert!(is_env_id("env-k3l9x0ab"));
    }
}
