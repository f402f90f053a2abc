//! The progress bar of long runs: simulated time against the horizon, on stderr, only when it
//! is a terminal (indicatif hides itself otherwise) and not `--quiet`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::SimTime;

/// A progress bar of simulated time, or nothing.
pub struct SimProgress {
    bar: Option<ProgressBar>,
}

impl SimProgress {
    /// A bar up to `horizon`, shown only when `enabled` (and stderr is a terminal).
    pub fn new(enabled: bool, horizon: SimTime) -> Self {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(Some(horizon.micros() / 1_000_000), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} simulated {pos}/{len} s [{bar:30}] {msg} ({elapsed})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        SimProgress { bar }
    }

    /// Moves the bar to simulated time `now`, with the events handled so far.
    pub fn update(&self, now: SimTime, events: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(now.micros() / 1_000_000);
            bar.set_message(format!("{events} events"));
        }
    }

    /// Clears the bar: the run's own line follows it.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
