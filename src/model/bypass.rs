//! The bypass: terminations registered while a CVM is still being created.
//!
//! Seed 002: "if the CVM is being created and thus cannot be terminated immediately, Batch will
//! register a scheduled termination operation in the bypass and asynchronously terminate the CVM
//! after it is created."
//!
//! The registration is a flag on the CVM (set by [`super::terminate`]). When the creation
//! completes the bypass notices it at its next poll: polls happen at whole multiples of
//! `bypass.poll_interval` of simulated time, and a poll at the very instant the creation
//! completes sees it (so the terminate call is made at the smallest multiple not before the
//! creation's end). An interval of `0s` means the call is made the instant creation completes.
//! CVMs noticed at the same poll are handled in the order their creations completed. The
//! terminate call then goes through the backend's terminate queue like any other (§1.6).
//!
//! If the creation fails instead (`LAUNCH_FAILED`) there is nothing left to terminate: the
//! instance is `FAILED` at that instant and its quota is freed with the CVM.

use super::{Event, Model, Recorder};

impl<R: Recorder> Model<R> {
    /// The CVM with a registered termination has just become `RUNNING`.
    pub(super) fn bypass_cvm_created(&mut self, c: u32) {
        let poll = self.now.next_multiple_of(self.cfg.backend.bypass_poll_interval);
        if poll == self.now {
            self.request_cvm_termination(c);
        } else {
            self.schedule(poll - self.now, Event::BypassTick(c));
        }
    }

    pub(super) fn bypass_tick(&mut self, c: u32) {
        self.request_cvm_termination(c);
    }
}
