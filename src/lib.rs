//! # termsim
//!
//! A deterministic discrete-event simulator of a cloud batch service's termination backend,
//! modelled on Tencent Cloud Batch's `TerminateTaskInstance` and `TerminateJob`.
//!
//! Data flows one way: a [`scenario`] file becomes a [`model::Config`]; the [`model`] runs on
//! the [`engine`] and reports every state change and API call to a [`model::Recorder`]; the
//! [`output`] module streams those to CSV and summarises the final state. The summary's
//! numbers are read by dotted path through [`figures`], by `expect`, [`check`] and [`sweep`]
//! alike. Every command fails with the one [`Error`], or ends with a [`Status`].
//!
//! ```
//! use termsim::model::{Model, NullRecorder};
//!
//! let scenario = termsim::scenario::default_scenario();
//! let mut model = Model::new(scenario.config.clone(), NullRecorder).expect("a valid configuration");
//! model.run().expect("the default scenario ends");
//! let (outcome, _) = model.finish();
//! assert!(outcome.instance_reports().all(|i| i.state.is_final()));
//! ```

#![warn(missing_docs, unreachable_pub)]

pub mod check;
pub mod engine;
pub mod error;
pub mod expect;
pub mod figures;
pub mod model;
pub mod output;
pub mod progress;
pub mod scenario;
pub mod serve;
pub mod sweep;

pub use error::{Error, Status};
pub use output::{RunOptions, RunReport, run_to_dir};
