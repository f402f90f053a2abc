//! Scenario files: loading, defaults, validation and the JSON Schema (SPEC §2).
//!
//! A scenario is strict JSON: unknown fields are errors, every omitted field has the default
//! documented in [`file`](mod@file). Loading happens in two passes:
//! 1. serde parses the text into [`file::ScenarioFile`]; the value types ([`values`]) check their
//!    own forms and ranges, so a wrong value is reported with serde_json's line and column and
//!    the field's path (kept by `serde_path_to_error`);
//! 2. `build` checks what spans fields (references, duplicates, totals, dependency cycles) and
//!    converts to the model's [`Config`]; its errors are located in the text by `locate`.
//!
//! Every error is an [`InputError`]: `FILE:LINE:COLUMN: PATH: MESSAGE`. A client naming a job,
//! task or index that does not exist is not an error (that is how erroneous callers are
//! modelled) but a warning.
//!
//! This module knows nothing of the engine: its product is plain data.

mod build;
mod calls;
mod clients;
mod context;
pub mod error;
pub mod file;
pub mod limits;
pub(crate) mod locate;
mod trace;
pub mod values;

use std::path::{Path, PathBuf};

pub use error::{InputError, JsonPath};
pub use trace::TraceCache;

use crate::expect::Expectation;
use crate::model::Config;

/// The built-in default scenario, also in `scenarios/default.json`.
pub const DEFAULT_SCENARIO: &str = include_str!("../../scenarios/default.json");
/// How the built-in default scenario is named in messages.
pub const DEFAULT_SCENARIO_FILE: &str = "scenarios/default.json (built in)";

/// A loaded scenario, ready to run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The model's input: every default filled in, every reference resolved.
    pub config: Config,
    /// The `expect` rules, checked against `summary.json` after the run.
    pub expectations: Vec<Expectation>,
    /// Things that are allowed but probably not meant, one line each, already located.
    pub warnings: Vec<String>,
    /// The file it was read from, as named in messages ([`DEFAULT_SCENARIO_FILE`] for the built-in
    /// one).
    pub file: PathBuf,
}

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<Scenario, InputError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| InputError::new(path, format!("cannot read the scenario: {e}")))?;
    parse(&text, path)
}

/// The built-in default scenario.
pub fn default_scenario() -> Scenario {
    parse(DEFAULT_SCENARIO, Path::new(DEFAULT_SCENARIO_FILE)).expect("the built-in default scenario is valid")
}

/// Parses and checks a scenario's text; `file` names it in messages and anchors relative paths.
pub fn parse(text: &str, file: &Path) -> Result<Scenario, InputError> {
    parse_with(text, file, None)
}

/// [`parse`], taking the traces it names from `traces` when they were read already, and adding
/// them to it otherwise. For many scenarios that differ elsewhere, as the points of a sweep.
pub fn parse_sharing_traces(text: &str, file: &Path, traces: &TraceCache) -> Result<Scenario, InputError> {
    parse_with(text, file, Some(traces))
}

fn parse_with(text: &str, file: &Path, traces: Option<&TraceCache>) -> Result<Scenario, InputError> {
    let parsed = parse_file(text, file)?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("scenario");
    let default_name = if file == Path::new(DEFAULT_SCENARIO_FILE) { "default" } else { stem };
    let mut ctx = context::Ctx { text, file, warnings: Vec::new(), traces };
    let (config, expectations) = build::build(&mut ctx, &parsed, default_name)?;
    Ok(Scenario { config, expectations, warnings: ctx.warnings, file: file.to_owned() })
}

/// The first pass: text to [`file::ScenarioFile`], with located errors.
///
/// serde_json reports a value's error where its parser stands when the error is raised, which
/// for a value checked after it was read (a probability, a distribution, a type mismatch) can be
/// the next line's closing brace. For such data errors the path is known, so the position is
/// taken from where that value starts in the text; syntax errors keep serde_json's position.
pub fn parse_file(text: &str, file: &Path) -> Result<file::ScenarioFile, InputError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed: file::ScenarioFile = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let path = (!path.is_empty() && path != ".").then(|| JsonPath::parse(&path));
        let message = strip_position(&inner.to_string());
        // Errors about a key (duplicate, unknown, one too many) are where serde_json stands.
        let about_a_key = ["duplicate field", "unknown field", "one too many"].iter().any(|k| message.contains(k));
        let position = match (&path, inner.classify()) {
            (Some(p), serde_json::error::Category::Data) if !about_a_key => Some(locate::locate(text, &p.0)),
            _ => serde_position(text, inner.line(), inner.column()),
        };
        InputError { file: file.to_owned(), position, path, message }
    })?;
    de.end().map_err(|e| InputError {
        file: file.to_owned(),
        position: serde_position(text, e.line(), e.column()),
        path: None,
        message: strip_position(&e.to_string()),
    })?;
    Ok(parsed)
}

/// serde_json's 1-based line with a 0-based "column before the line's first character" for an
/// error at a line break: shown as the end of the previous line.
fn serde_position(text: &str, line: usize, column: usize) -> Option<(usize, usize)> {
    if line == 0 {
        return None;
    }
    if column > 0 || line == 1 {
        return Some((line, column.max(1)));
    }
    let previous = text.lines().nth(line - 2).map_or(0, |l| l.chars().count());
    Some((line - 1, previous + 1))
}

/// serde_json appends " at line L column C" to its messages; we show the position up front.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// The JSON Schema of scenario files, for editors.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(file::ScenarioFile);
    serde_json::to_value(schema).expect("a schema is plain JSON")
}
