//! The figures of a run: the numbers of `summary.json`, addressed by dotted paths
//! (`termination_latency_s.p99`, `jobs.0.latency_s`, `requests.by_error.RequestLimitExceeded`).
//! `expect`, `check` and sweep metrics all read them here, so that a path means the same
//! number to each of them (SPEC §4).
//!
//! The count maps (`instances.by_final_state`, `instances.by_path`, `requests.by_error`) list
//! only the kinds that occurred. A kind that never occurred is 0, whether or not the summary
//! writes it; a name that is no state, path or error code of the model is no figure at all, so
//! that a misspelt name fails instead of reading as a zero.

use serde_json::Value;

use crate::model::{ErrorCode, InstanceState, TerminationPath};

/// What a count map counts: the model's names for it are the only keys it can have.
#[derive(Clone, Copy)]
enum Kind {
    FinalState,
    Path,
    Error,
}

impl Kind {
    fn names(self, name: &str) -> bool {
        match self {
            Kind::FinalState => InstanceState::ALL.iter().any(|s| s.as_str() == name),
            Kind::Path => TerminationPath::ALL.iter().any(|p| p.as_str() == name),
            Kind::Error => ErrorCode::ALL.iter().any(|e| e.as_str() == name),
        }
    }
}

const COUNT_MAPS: [(&str, Kind); 3] = [
    ("instances.by_final_state", Kind::FinalState),
    ("instances.by_path", Kind::Path),
    ("requests.by_error", Kind::Error),
];

/// A path into a count map: the map's path, what it counts and the name after it. The name is
/// everything after the map, because error codes hold dots of their own (`ResourceNotFound.Job`).
fn count_entry(path: &str) -> Option<(&'static str, Kind, &str)> {
    COUNT_MAPS.iter().find_map(|&(map, kind)| Some((map, kind, path.strip_prefix(map)?.strip_prefix('.')?)))
}

/// Whether `path` is a count of a kind the model has, which is 0 where the summary omits it.
fn is_count(path: &str) -> bool {
    count_entry(path).is_some_and(|(_, kind, name)| kind.names(name))
}

/// The keys `path` steps through: split at its dots, but a count map's name whole.
fn steps(path: &str) -> impl Iterator<Item = &str> {
    let (head, name) = match count_entry(path) {
        Some((map, _, name)) => (map, Some(name)),
        None => (path, None),
    };
    head.split('.').chain(name)
}

/// One step of a dotted path: a key, or a position in a list (`jobs.0.latency_s`).
fn step<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Array(list) => key.parse::<usize>().ok().and_then(|i| list.get(i)),
        _ => v.get(key),
    }
}

fn lookup<'v>(summary: &'v Value, path: &str) -> Option<&'v Value> {
    steps(path).try_fold(summary, step)
}

/// The number at `path` of a summary (`summary.json` as written, or a summary's
/// [`to_value`](crate::output::summary::Summary::to_value)): `None` where the summary has no
/// number there (a latency of a run without terminations, a misspelt name), 0 for a count of a
/// kind that never occurred.
pub fn figure(summary: &Value, path: &str) -> Option<f64> {
    match lookup(summary, path) {
        Some(v) => v.as_f64(),
        None => is_count(path).then_some(0.0),
    }
}

/// Checks that `path` is a dotted path: keys separated by single dots.
pub fn check_dotted(path: &str) -> Result<(), String> {
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("`{path}` is not a dotted path into summary.json"));
    }
    Ok(())
}

/// Checks that `path` names a figure of a run's summary, against `template`: the summary of the
/// same scenario before anything ran, which has every key a run's summary has (a list position
/// for `jobs`; a state, path or error name of the model in the count maps). A path to a group of
/// figures (`termination_latency_s`) or to text (`scenario`) is refused too: it would read as no
/// number in every run.
pub fn check_name(template: &Value, path: &str) -> Result<(), String> {
    check_dotted(path)?;
    match lookup(template, path) {
        Some(Value::Number(_) | Value::Null) => return Ok(()),
        Some(Value::Object(_) | Value::Array(_)) => {
            return Err(format!("`{path}` is not a figure of summary.json but a group of them: name one inside it"));
        }
        Some(_) => return Err(format!("`{path}` is not a figure of summary.json: it is no number")),
        None if is_count(path) => return Ok(()),
        None => {}
    }
    let mut at = template;
    let found: Vec<&str> = steps(path)
        .map_while(|key| {
            at = step(at, key)?;
            Some(key)
        })
        .collect();
    Err(format!(
        "`{path}` is not a figure of summary.json (`{}` has no `{}`)",
        if found.is_empty() { "the summary".to_owned() } else { found.join(".") },
        steps(path).nth(found.len()).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITED: ErrorCode = ErrorCode::RequestLimitExceeded;

    fn by_error(code: &str) -> String {
        format!("requests.by_error.{code}")
    }

    fn summary() -> Value {
        let mut by_error = serde_json::Map::new();
        by_error.insert(LIMITED.as_str().to_owned(), json!(3));
        by_error.insert(ErrorCode::ResourceNotFoundJob.as_str().to_owned(), json!(2));
        json!({ "peak_cvms": 12, "termination_latency_s": { "p99": null },
                "instances": { "by_path": { TerminationPath::Cvm.as_str(): 5 }, "by_final_state": {} },
                "requests": { "by_error": by_error },
                "jobs": [ { "latency_s": 231.5 }, { "latency_s": null } ] })
    }

    #[test]
    fn figures_are_read_at_dotted_paths() {
        let s = summary();
        assert_eq!(figure(&s, "peak_cvms"), Some(12.0));
        assert_eq!(figure(&s, "termination_latency_s.p99"), None, "null is no number");
        assert_eq!(figure(&s, "no.such.figure"), None);
        assert_eq!(figure(&s, "jobs.0.latency_s"), Some(231.5));
        assert_eq!(figure(&s, "jobs.1.latency_s"), None);
        assert_eq!(figure(&s, "jobs.2.latency_s"), None);
    }

    #[test]
    fn a_kind_that_never_occurred_counts_0_and_a_misspelt_one_is_no_figure() {
        let s = summary();
        assert_eq!(figure(&s, &by_error(LIMITED.as_str())), Some(3.0));
        assert_eq!(figure(&s, &by_error(ErrorCode::InternalError.as_str())), Some(0.0));
        assert_eq!(figure(&s, &by_error(&LIMITED.as_str().replace("Exceeded", "Exceded"))), None);
        assert_eq!(figure(&s, &format!("instances.by_path.{}", TerminationPath::Cvm.as_str())), Some(5.0));
        assert_eq!(figure(&s, &format!("instances.by_path.{}", TerminationPath::Bypass.as_str())), Some(0.0));
        let failed = format!("instances.by_final_state.{}", InstanceState::Failed.as_str());
        assert_eq!(figure(&s, &failed), Some(0.0));
        assert_eq!(figure(&s, "instances.by_final_state.failed"), None, "names are the model's, case and all");
    }

    #[test]
    fn error_codes_with_dots_are_one_name() {
        let s = summary();
        assert_eq!(figure(&s, &by_error(ErrorCode::ResourceNotFoundJob.as_str())), Some(2.0));
        assert_eq!(figure(&s, &by_error(ErrorCode::ResourceNotFoundTaskInstance.as_str())), Some(0.0));
        assert!(check_name(&s, &by_error(ErrorCode::ResourceNotFoundTaskInstance.as_str())).is_ok());
    }

    #[test]
    fn names_are_checked_against_a_template() {
        let s = summary();
        assert_eq!(check_name(&s, "peak_cvms"), Ok(()));
        assert_eq!(check_name(&s, "termination_latency_s.p99"), Ok(()), "null in the template, a number later");
        assert_eq!(check_name(&s, &by_error(ErrorCode::InternalError.as_str())), Ok(()));
        let misspelt = LIMITED.as_str().replace("Exceeded", "Exceded");
        assert_eq!(
            check_name(&s, &by_error(&misspelt)),
            Err(format!(
                "`{}` is not a figure of summary.json (`requests.by_error` has no `{misspelt}`)",
                by_error(&misspelt)
            ))
        );
        assert_eq!(
            check_name(&s, "termination_latency_s.p999"),
            Err("`termination_latency_s.p999` is not a figure of summary.json (`termination_latency_s` has no `p999`)"
                .to_owned())
        );
        assert_eq!(
            check_name(&s, "latency"),
            Err("`latency` is not a figure of summary.json (`the summary` has no `latency`)".to_owned())
        );
        assert!(check_name(&s, "termination_latency_s").is_err(), "a group of figures");
        assert!(check_name(&s, "jobs").is_err(), "a list of figures");
        assert!(check_name(&json!({ "scenario": "s" }), "scenario").is_err(), "text");
        assert!(check_name(&s, "peak_cvms..x").is_err());
    }
}
