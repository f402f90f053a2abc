//! The simulation engine: simulated time, the event queue and the random streams.
//!
//! The engine knows nothing of batch jobs or CVMs. It offers three things a discrete-event model
//! needs, and nothing more:
//!
//! - [`SimTime`]: an instant (or a span) as a whole number of microseconds. No floating point
//!   ever decides which event runs first.
//! - [`EventQueue`]: pending events ordered by `(time, sequence number)`, so that events due at
//!   the same instant run in the order they were scheduled. [`RadixQueue`] is the one the model
//!   uses (time never goes backwards, which its radix buckets exploit); [`HeapQueue`] is the textbook
//!   binary heap kept as a reference for tests and benchmarks.
//! - [`Streams`]: one ChaCha8 stream per model component, all derived from the scenario's seed,
//!   and [`Delay`], a distribution of durations sampled from such a stream and quantised to
//!   whole microseconds.
//! - [`prefetch`]: a cache hint, for the event loop to fetch what the next events will touch,
//!   and [`table_of`]: big tables on huge pages, so those fetches rarely miss the TLB.

mod memory;
mod prefetch;
mod queue;
mod random;
mod time;

pub use memory::{table_of, table_with_capacity};
pub use prefetch::prefetch;
pub use queue::{EventQueue, HeapQueue, RadixQueue};
pub use random::{Delay, Stream, Streams, bernoulli};
pub use time::SimTime;
