//! How a command ends: the one [`Error`] of every command (exit code 2), or the [`Status`] of a
//! command that did its work (exit code 0, or 1 when an expectation or a check failed).
//!
//! SPEC §3 fixes the codes: 0 success, 1 an expectation (`expect`) or a `check` failed, 2 bad
//! input or outputs that could not be written. A failed expectation is not an error: the run
//! did all its work and wrote its outputs, so it is a [`Status`], and only what stopped a
//! command is an [`Error`].

use crate::model::{ConfigError, RunError};
use crate::scenario::InputError;

/// Why a command stopped. The message names the file, and the line, column and JSON path where
/// there are some; the command line prints it as `error: MESSAGE`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario, sweep or trace file that cannot be read or accepted:
    /// `FILE:LINE:COLUMN: PATH: MESSAGE`.
    #[error(transparent)]
    File(#[from] InputError),
    /// Other bad input: a flag's value, a baseline, a results folder, shard folders. The message
    /// is complete: it names what was bad and where.
    #[error("{0}")]
    Input(String),
    /// A configuration the model refuses (one built by hand: the loader refuses these first).
    #[error("the model cannot run this configuration: {0}")]
    Config(#[from] ConfigError),
    /// A run that could not reach its end.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The outputs could not be written (or a run could not complete). Shown with every cause,
    /// outermost first: `cannot write `x`: No space left on device`.
    #[error("{0:#}")]
    Output(#[from] anyhow::Error),
}

impl Error {
    /// The exit code for this error: 2, for bad input and for outputs that could not be
    /// written alike (SPEC §3).
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// How a command that did its work came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything passed: exit code 0.
    Success,
    /// An expectation or a check failed (the outputs are still written): exit code 1.
    Failed,
    /// Some of several inputs were bad and each was reported as it was met (`validate A B C`
    /// goes on after a bad file): exit code 2, as for an [`Error`].
    Rejected,
}

impl Status {
    /// The exit code of a command that ended with this status.
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Success => 0,
            Status::Failed => 1,
            Status::Rejected => 2,
        }
    }

    /// [`Success`](Status::Success) when `passed`, [`Failed`](Status::Failed) otherwise.
    pub fn passed_if(passed: bool) -> Status {
        if passed { Status::Success } else { Status::Failed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_causes_display() {
        let file = InputError::new(std::path::Path::new("s.json"), "cannot read the scenario: gone");
        assert_eq!(Error::from(file).to_string(), "s.json: cannot read the scenario: gone");
        assert_eq!(
            Error::Input("--jobs 0: from 1 to 1024 runs at a time".into()).to_string(),
            "--jobs 0: from 1 to 1024 runs at a time"
        );
        let output = anyhow::anyhow!("No space left on device").context("cannot write `summary.json`");
        assert_eq!(Error::from(output).to_string(), "cannot write `summary.json`: No space left on device");
    }

    #[test]
    fn exit_codes_are_those_of_spec_section_3() {
        assert_eq!(Error::Input(String::new()).exit_code(), 2);
        assert_eq!([Status::Success, Status::Failed, Status::Rejected].map(Status::exit_code), [0, 1, 2]);
        assert_eq!(Status::passed_if(false), Status::Failed);
    }
}
