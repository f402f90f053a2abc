//! Expectations written in a scenario (`expect`): a figure of `summary.json`, addressed by a
//! dotted path and read as [`figures`](crate::figures) reads it, compared with a number. Checked
//! after every run; a failed one makes the run exit with code 1 (its outputs are still written).

use std::fmt;

use serde::Serialize;

/// How the figure is compared with the number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Op {
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `==`: exactly, as for a count.
    #[serde(rename = "==")]
    Eq,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }

    fn holds(self, actual: f64, bound: f64) -> bool {
        match self {
            Op::Lt => actual < bound,
            Op::Le => actual <= bound,
            Op::Gt => actual > bound,
            Op::Ge => actual >= bound,
            Op::Eq => actual == bound,
        }
    }
}

/// `metric op value`, e.g. `termination_latency_s.p99 <= 180`.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The figure's dotted path into `summary.json`.
    pub metric: String,
    /// How it is compared.
    pub op: Op,
    /// The number it is compared with.
    pub value: f64,
}

/// An expectation and what the run gave.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    /// The figure's dotted path into `summary.json`.
    pub metric: String,
    /// How it is compared.
    pub op: Op,
    /// The number it is compared with.
    pub value: f64,
    /// `None` when the summary has no number at that path (e.g. a latency of a run without
    /// terminations): the expectation then fails.
    pub actual: Option<f64>,
    /// Whether the figure is a number and the comparison holds.
    pub passed: bool,
}

impl Expectation {
    /// An expectation as a scenario writes it: `"termination_latency_s.p99": "<= 180"`. The
    /// error says what is wrong with the path or the rule; whether the path names a figure is
    /// known only from a summary.
    pub fn parse(metric: &str, rule: &str) -> Result<Self, String> {
        crate::figures::check_dotted(metric)?;
        let rule = rule.trim();
        let (op, rest) = [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("<", Op::Lt), (">", Op::Gt)]
            .into_iter()
            .find_map(|(s, op)| rule.strip_prefix(s).map(|rest| (op, rest)))
            .ok_or_else(|| {
                format!("`{rule}` should be an operator (<, <=, >, >=, ==) and a number, e.g. \"<= 180\"")
            })?;
        let value: f64 = rest.trim().parse().map_err(|_| format!("`{}` is not a number", rest.trim()))?;
        if !value.is_finite() {
            return Err(format!("`{}` is not a finite number", rest.trim()));
        }
        Ok(Expectation { metric: metric.to_owned(), op, value })
    }

    /// The verdict on a run's summary (`summary.json` as written).
    pub fn check(&self, summary: &serde_json::Value) -> Verdict {
        let actual = crate::figures::figure(summary, &self.metric);
        Verdict {
            metric: self.metric.clone(),
            op: self.op,
            value: self.value,
            actual,
            passed: actual.is_some_and(|a| self.op.holds(a, self.value)),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let actual = self.actual.map_or_else(|| "null".to_owned(), |a| a.to_string());
        let verdict = if self.passed { "pass" } else { "FAIL" };
        write!(f, "{verdict}  {} {} {}  (got {actual})", self.metric, self.op.as_str(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorCode;
    use serde_json::json;

    #[test]
    fn every_operator_compares_as_written() {
        let summary = json!({ "termination_latency_s": { "p99": 150.0 }, "requests": { "total": 4 } });
        let check = |m: &str, r: &str| Expectation::parse(m, r).unwrap().check(&summary).passed;
        assert!(check("termination_latency_s.p99", "<= 150"));
        assert!(!check("termination_latency_s.p99", "< 150"));
        assert!(check("termination_latency_s.p99", ">= 150"));
        assert!(!check("termination_latency_s.p99", "> 150"));
        assert!(check("requests.total", "== 4"));
        assert!(!check("requests.total", "== 5"));
        assert!(!check("requests.missing", "== 0"), "a missing figure fails");
    }

    #[test]
    fn a_count_that_never_occurred_is_0_but_a_misspelt_code_is_no_figure() {
        // A run without a single rate-limited call: summary.json does not list the code.
        let summary = json!({ "requests": { "total": 4, "ok": 4, "by_error": {} } });
        let limited = format!("requests.by_error.{}", ErrorCode::RequestLimitExceeded.as_str());
        let verdict = Expectation::parse(&limited, "<= 10").unwrap().check(&summary);
        assert_eq!((verdict.actual, verdict.passed), (Some(0.0), true));
        assert_eq!(verdict.to_string(), format!("pass  {limited} <= 10  (got 0)"));

        let misspelt = limited.replace("Exceeded", "Exceded");
        let verdict = Expectation::parse(&misspelt, "<= 10").unwrap().check(&summary);
        assert_eq!((verdict.actual, verdict.passed), (None, false));
        assert_eq!(verdict.to_string(), format!("FAIL  {misspelt} <= 10  (got null)"));
    }

    #[test]
    fn malformed_rules_are_refused() {
        assert!(Expectation::parse("a.b", "about 3").is_err());
        assert!(Expectation::parse("a.b", "<= x").is_err());
        assert!(Expectation::parse("a..b", "<= 1").is_err());
    }
}
