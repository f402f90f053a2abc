//! What every check of a scenario shares: the text and file that errors and warnings point
//! into, and the conversion of values to the model's units.

use std::path::Path;
use std::sync::Arc;

use crate::engine::{Delay, SimTime};

use super::error::{InputError, JsonPath};
use super::limits::MAX_RATE;
use super::locate::locate;
use super::values::{DistributionSpec, MAX_EMPIRICAL_VALUES, parse_duration};

/// Builds errors that point into the scenario's text.
pub(super) struct Ctx<'a> {
    pub text: &'a str,
    pub file: &'a Path,
    pub warnings: Vec<String>,
    /// Traces other scenarios read already (a sweep's points), if any.
    pub traces: Option<&'a super::TraceCache>,
}

pub(super) type Result<T> = std::result::Result<T, InputError>;

impl Ctx<'_> {
    pub(super) fn err(&self, path: &JsonPath, message: impl Into<String>) -> InputError {
        InputError {
            file: self.file.to_owned(),
            position: Some(locate(self.text, &path.0)),
            path: Some(path.clone()),
            message: message.into(),
        }
    }

    pub(super) fn warn(&mut self, path: &JsonPath, message: impl AsRef<str>) {
        let (line, column) = locate(self.text, &path.0);
        self.warnings.push(format!("{}:{line}:{column}: {path}: warning: {}", self.file.display(), message.as_ref()));
    }

    pub(super) fn check(&self, ok: bool, path: &JsonPath, message: impl FnOnce() -> String) -> Result<()> {
        if ok { Ok(()) } else { Err(self.err(path, message())) }
    }

    pub(super) fn rate(&self, value: f64, path: &JsonPath, what: &str) -> Result<f64> {
        self.check(value.is_finite() && value > 0.0 && value <= MAX_RATE, path, || {
            format!("{what} must be a positive number of calls per second, at most {MAX_RATE}, got {value}")
        })?;
        Ok(value)
    }

    pub(super) fn delay(&self, spec: &DistributionSpec, path: &JsonPath) -> Result<Delay> {
        let us = |d: &super::values::DurationValue| d.0.micros() as f64;
        Ok(match spec {
            DistributionSpec::Constant(d) => Delay::Constant(d.0),
            DistributionSpec::Uniform { min, max } => Delay::Uniform { min: min.0.micros(), max: max.0.micros() },
            DistributionSpec::Exponential { mean } => Delay::exponential(us(mean)).expect("mean checked positive"),
            DistributionSpec::Normal { mean, std } if std.0 == SimTime::ZERO => Delay::Constant(mean.0),
            DistributionSpec::Normal { mean, std } => Delay::normal(us(mean), us(std)).expect("finite parameters"),
            DistributionSpec::Lognormal { median, sigma } if *sigma == 0.0 => Delay::Constant(median.0),
            DistributionSpec::Lognormal { median, sigma } => {
                Delay::lognormal(us(median), *sigma).expect("parameters checked when parsed")
            }
            DistributionSpec::Empirical(e) => match (&e.values, &e.csv, &e.column) {
                (Some(values), _, _) => Delay::Empirical(values.iter().map(|v| v.0).collect()),
                (None, Some(csv), Some(column)) => Delay::Empirical(self.empirical_csv(csv, column, path)?),
                _ => unreachable!("the form is checked when parsed"),
            },
        })
    }

    /// Reads a column of durations from a CSV file beside the scenario.
    fn empirical_csv(&self, csv_path: &str, column: &str, path: &JsonPath) -> Result<Arc<[SimTime]>> {
        let field = path.key("empirical").key("csv");
        let base = self.file.parent().unwrap_or(Path::new("."));
        let full = base.join(csv_path);
        let csv_err = |line: Option<usize>, msg: String| InputError {
            file: full.clone(),
            position: line.map(|l| (l, 1)),
            path: Some(field.clone()),
            message: msg,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(&full)
            .map_err(|e| self.err(&field, format!("cannot read `{}`: {e}", full.display())))?;
        let headers = reader.headers().map_err(|e| csv_err(Some(1), format!("cannot read the header: {e}")))?;
        let Some(col) = headers.iter().position(|h| h == column) else {
            return Err(csv_err(
                Some(1),
                format!("no column `{column}` (columns: {})", headers.iter().collect::<Vec<_>>().join(", ")),
            ));
        };
        let mut values = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_err(e.position().map(|p| p.line() as usize), e.to_string()))?;
            // The reader skips blank lines, so the record knows its line better than a count.
            let line = record.position().map_or(0, |p| p.line() as usize);
            let cell = record.get(col).unwrap_or("");
            let value = parse_duration(cell).map_err(|e| csv_err(Some(line), format!("column `{column}`: {e}")))?;
            values.push(value);
            if values.len() > MAX_EMPIRICAL_VALUES {
                return Err(csv_err(Some(line), format!("more than {MAX_EMPIRICAL_VALUES} values")));
            }
        }
        if values.is_empty() {
            return Err(csv_err(None, format!("column `{column}` has no values")));
        }
        Ok(values.into())
    }
}
