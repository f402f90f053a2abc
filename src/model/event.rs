//! What can happen, and the eight-byte form in which it waits in the event queue.
//!
//! The queue moves every pending event a few times (see [`crate::engine::RadixQueue`]), and a
//! million-instance run has two million of them pending at once, so their size is most of the
//! queue's memory traffic. [`Queued`] packs an [`Event`] into a `u64`: a queue entry with its
//! time is then 16 bytes instead of 24. Packing is exact for every scenario the loader accepts:
//! instance indices are below [`MAX_INSTANCES`] (2^24, checked by `Model::new`), every other index is a `u32`, and a
//! retry answer, which carries three numbers, waits in a side table and is packed as its slot.

#[cfg(test)]
use super::limits::MAX_INSTANCES;

use super::cvm::CallKind;

/// Something that will happen. Events carry indices only, so they stay small and `Copy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Event {
    JobSubmitted(u32),
    JobPending(u32),
    /// A rate-limited CVM call queue may make its next call.
    CvmCallTurn(CallKind),
    CvmCreationDone(u32),
    CvmTerminationDone(u32),
    NodeRestarted(u32),
    RunEnded {
        instance: u32,
        generation: u32,
    },
    RunInterrupted {
        instance: u32,
        generation: u32,
    },
    BypassTick(u32),
    WalkStep(u32),
    /// The clients' wake-up with this token; only the latest one scheduled is live.
    ClientWake(u32),
    /// A retryable error reached a client that retries: the slot of its details in the
    /// clients' table of pending answers.
    Answer(u32),
    /// A DLC task appears, `QUEUED`.
    DlcSubmitted(u32),
    /// A DLC task's time in its current state is up.
    DlcStageDone(u32),
    /// An accepted CancelTask takes effect.
    DlcCancelDone(u32),
    /// A TAT invocation starts: its tasks are `PENDING`.
    TatStarted(u32),
    /// A TAT invocation task's time in its current state is up.
    TatStageDone(u32),
    /// A `CANCELLING` TAT invocation task is `TERMINATED`.
    TatKillDone(u32),
}

/// An [`Event`] packed into eight bytes: the kind in the low byte, an index in the high half,
/// and for run events the instance in bits 8 to 31.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Queued(u64);

impl From<Event> for Queued {
    #[inline]
    fn from(event: Event) -> Queued {
        let (kind, instance, index) = match event {
            Event::JobSubmitted(j) => (0, 0, j),
            Event::JobPending(j) => (1, 0, j),
            Event::CvmCallTurn(CallKind::Create) => (2, 0, 0),
            Event::CvmCallTurn(CallKind::Terminate) => (2, 0, 1),
            Event::CvmCreationDone(c) => (3, 0, c),
            Event::CvmTerminationDone(c) => (4, 0, c),
            Event::NodeRestarted(c) => (5, 0, c),
            Event::RunEnded { instance, generation } => (6, instance, generation),
            Event::RunInterrupted { instance, generation } => (7, instance, generation),
            Event::BypassTick(c) => (8, 0, c),
            Event::WalkStep(w) => (9, 0, w),
            Event::ClientWake(token) => (10, 0, token),
            Event::Answer(slot) => (11, 0, slot),
            Event::DlcSubmitted(t) => (12, 0, t),
            Event::DlcStageDone(t) => (13, 0, t),
            Event::DlcCancelDone(t) => (14, 0, t),
            Event::TatStarted(v) => (15, 0, v),
            Event::TatStageDone(k) => (16, 0, k),
            Event::TatKillDone(k) => (17, 0, k),
        };
        debug_assert!(instance < 1 << 24);
        Queued(kind | u64::from(instance) << 8 | u64::from(index) << 32)
    }
}

impl From<Queued> for Event {
    #[inline]
    fn from(Queued(bits): Queued) -> Event {
        let instance = ((bits >> 8) & 0xff_ffff) as u32;
        let index = (bits >> 32) as u32;
        match bits & 0xff {
            0 => Event::JobSubmitted(index),
            1 => Event::JobPending(index),
            2 if index == 0 => Event::CvmCallTurn(CallKind::Create),
            2 => Event::CvmCallTurn(CallKind::Terminate),
            3 => Event::CvmCreationDone(index),
            4 => Event::CvmTerminationDone(index),
            5 => Event::NodeRestarted(index),
            6 => Event::RunEnded { instance, generation: index },
            7 => Event::RunInterrupted { instance, generation: index },
            8 => Event::BypassTick(index),
            9 => Event::WalkStep(index),
            10 => Event::ClientWake(index),
            11 => Event::Answer(index),
            12 => Event::DlcSubmitted(index),
            13 => Event::DlcStageDone(index),
            14 => Event::DlcCancelDone(index),
            15 => Event::TatStarted(index),
            16 => Event::TatStageDone(index),
            17 => Event::TatKillDone(index),
            kind => unreachable!("no event kind {kind} is ever packed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_packing_at_the_extremes_of_its_fields() {
        let last_instance = MAX_INSTANCES - 1;
        let mut events = vec![Event::CvmCallTurn(CallKind::Create), Event::CvmCallTurn(CallKind::Terminate)];

        for n in [0, 1, 0x8000_0000, u32::MAX] {
            events.extend([
                Event::JobSubmitted(n),
                Event::JobPending(n),
                Event::CvmCreationDone(n),
                Event::CvmTerminationDone(n),
                Event::NodeRestarted(n),
                Event::BypassTick(n),
                Event::WalkStep(n),
                Event::Answer(n),
                Event::ClientWake(n),
                Event::DlcSubmitted(n),
                Event::DlcStageDone(n),
                Event::DlcCancelDone(n),
                Event::TatStarted(n),
                Event::TatStageDone(n),
                Event::TatKillDone(n),
            ]);
            for instance in [0, 1, last_instance] {
                events.push(Event::RunEnded { instance, generation: n });
                events.push(Event::RunInterrupted { instance, generation: n });
            }
        }
        for event in events {
            assert_eq!(Event::from(Queued::from(event)), event);
        }
        assert_eq!(size_of::<Queued>(), 8);
    }
}
