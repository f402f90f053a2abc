//! A hint to the CPU that a piece of memory will be read soon.
//!
//! Events reach entities in time order, which is random order in memory: in a run of a million
//! instances nearly every event would otherwise wait ~100 ns for a cache miss. The event loop
//! peeks a few events ahead in the queue and prefetches what they will touch, so that the misses
//! overlap instead of queueing one behind another.

/// Starts loading the cache line that holds `item`. Never faults and changes no result; a no-op
/// on targets without a prefetch instruction.
#[inline(always)]
pub fn prefetch<T>(item: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it does not dereference the pointer architecturally and
    // cannot fault, and `item` is a valid reference anyway.
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>((item as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = item;
}
