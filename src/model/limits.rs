//! Limits that come from the model's representation or from the API itself. A [`Config`] beyond
//! them is refused by [`Model::new`]; the scenario loader refuses it earlier, with the field's
//! place in the file, by the product's own limits (`crate::scenario::limits`), which stay within
//! these.
//!
//! [`Config`]: super::Config
//! [`Model::new`]: super::Model::new

/// Task instances in one run: a run event packs its instance into 24 bits (see `event.rs`).
pub const MAX_INSTANCES: u32 = 1 << 24;

/// A task's `retry_count`: an instance counts its failed runs, at most `retry_count + 1`, in a
/// byte.
pub const MAX_RETRY_COUNT: u32 = u8::MAX as u32 - 1;

/// Instances of one TAT invocation, and `InstanceIds` of one CancelInvocation (seed 004: "up to
/// 100").
pub const MAX_INVOCATION_INSTANCES: usize = 100;
