//! The malformed-scenario corpus (`tests/malformed/*.json`): every file is a valid scenario but
//! for one defect, and the loader must reject it with exit code 2 and a message
//! `FILE:LINE:COLUMN: JSON.PATH: message` that points at that defect, from `validate` and from
//! `run` alike, without panicking and (for `run`) without leaving any output behind (SPEC §2, §3).
//!
//! The expected lines, columns and paths below were worked out by reading the files, not copied
//! from the program's output. Columns are given for the errors found after parsing (references,
//! ranges, duplicates: the column where the offending value starts); errors found while parsing
//! carry serde_json's position, whose column convention is not part of the contract, so only
//! their line is checked.
//!
//! Each case also carries a `fix`: a text replacement that removes the defect. The fixed file must
//! validate, which shows that the case holds exactly one defect.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Case {
    /// The scenario, in `tests/malformed/`.
    file: &'static str,
    /// The file the message names, when it is not the scenario (a CSV file beside it).
    shown: Option<&'static str>,
    /// The JSON path the message names, or a prefix of it ending at a segment boundary
    /// (`jobs[0].tasks[0].runtime` accepts `jobs[0].tasks[0].runtime.empirical.csv`). Empty: the
    /// error is not inside any field (text after the document), so no path is checked.
    path: &'static str,
    /// The line(s) that are right: usually one; two where both the start of the value the path
    /// names and the line of the offending part inside it are sensible.
    lines: &'static [usize],
    column: Option<usize>,
    /// A piece of the message.
    message: &'static str,
    /// `(file, from, to)`: replacing the first `from` with `to` in `file` (empty: the scenario)
    /// gives a valid scenario; an empty `from` writes `to` as the whole file.
    fix: (&'static str, &'static str, &'static str),
}

const fn case(
    file: &'static str,
    path: &'static str,
    line: &'static [usize],
    column: Option<usize>,
    message: &'static str,
    fix: (&'static str, &'static str),
) -> Case {
    Case { file, shown: None, path, lines: line, column, message, fix: ("", fix.0, fix.1) }
}

/// A trace case: the scenario `file` replays the CSV `shown`, whose cell at `line`:`column` is
/// wrong; the fix edits the CSV.
const fn trace(
    file: &'static str,
    shown: &'static str,
    line: &'static [usize],
    column: usize,
    message: &'static str,
    fix: (&'static str, &'static str),
) -> Case {
    Case {
        file,
        shown: Some(shown),
        path: "clients[0].csv",
        lines: line,
        column: Some(column),
        message,
        fix: (shown, fix.0, fix.1),
    }
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // JSON syntax.
    case("syntax_trailing_comma.json", "backend.api", &[5], None, "trailing comma",
         ("\"20ms\", }", "\"20ms\" }")),
    case("syntax_unterminated_string.json", "horizon", &[3], None, "string",
         ("\"1h,", "\"1h\",")),
    case("trailing_garbage.json", "", &[13], Some(1), "trailing characters",
         ("  ]\n}\n}\n", "  ]\n}\n")),
    case("duplicate_key.json", "jobs[0].tasks[0]", &[12], None, "duplicate field `instances`",
         (",\n          \"instances\": 3", "")),
    // Fields and types.
    case("unknown_top_level_field.json", "horizn", &[4], None, "unknown field `horizn`",
         ("  \"horizn\": \"2h\",\n", "")),
    case("unknown_nested_field.json", "backend.cvm.creation_dealy", &[7], None, "unknown field `creation_dealy`",
         ("creation_dealy", "restart_delay")),
    case("wrong_type_string_for_number.json", "jobs[0].tasks[0].instances", &[10], None, "invalid type",
         ("\"two\"", "2")),
    case("task_missing_runtime.json", "jobs[0].tasks[1]", &[9], None, "missing field `runtime`",
         ("\"instances\": 2 }", "\"instances\": 2, \"runtime\": \"1m\" }")),
    case("bad_name.json", "name", &[2], Some(11), "not a usable name",
         ("../escape", "escape")),
    case("horizon_zero.json", "horizon", &[3], Some(14), "positive",
         ("\"0s\"", "\"1h\"")),
    // Durations and distributions.
    case("negative_duration.json", "jobs[0].submit_at", &[7], None, "negative",
         ("-5", "5")),
    case("unparseable_duration.json", "clients[0].at", &[15], None, "not a duration",
         ("\"soon\"", "\"100s\"")),
    case("uniform_min_above_max.json", "backend.cvm.termination_delay", &[6], None, "greater than",
         ("\"min\": \"15s\"", "\"min\": \"1s\"")),
    case("uniform_min_above_max_multiline.json", "backend.cvm.termination_delay", &[6, 7], None, "greater than",
         ("\"min\": \"15s\"", "\"min\": \"1s\"")),
    case("unknown_distribution_kind.json", "jobs[0].tasks[0].runtime", &[11], None, "unknown variant `gamma`",
         ("{ \"gamma\": { \"shape\": 2, \"scale\": \"5m\" } }", "{ \"exponential\": { \"mean\": \"5m\" } }")),
    case("distribution_two_keys.json", "jobs[0].tasks[0].runtime", &[13], None, "one key",
         (",\n            \"exponential\": { \"mean\": \"7m\" }", "")),
    case("empirical_empty_values.json", "jobs[0].tasks[0].runtime", &[11], None, "must not be empty",
         ("[]", "[\"1m\", \"2m\"]")),
    Case {
        file: "empirical_csv_missing.json",
        shown: None,
        path: "jobs[0].tasks[0].runtime.empirical.csv",
        lines: &[13],
        column: Some(22),
        message: "cannot read",
        // The fix creates the missing file.
        fix: ("no_such_file.csv", "", "runtime\n30s\n"),
    },
    Case {
        file: "empirical_csv_bad_value.json",
        shown: Some("bad_values.csv"),
        path: "jobs[0].tasks[0].runtime.empirical.csv",
        lines: &[4],
        column: None,
        message: "`fast` is not a duration",
        fix: ("bad_values.csv", "A,fast", "A,50s"),
    },
    Case {
        file: "empirical_csv_bad_value_after_blank_line.json",
        shown: Some("bad_values_blank_line.csv"),
        path: "jobs[0].tasks[0].runtime.empirical.csv",
        // Line 3 of the CSV is blank (the csv reader skips it); the bad value is on line 5.
        lines: &[5],
        column: None,
        message: "`fast` is not a duration",
        fix: ("bad_values_blank_line.csv", "A,fast", "A,50s"),
    },
    case("probability_above_one.json", "jobs[0].tasks[0].failure_rate", &[12], None, "probability",
         ("1.5", "0.5")),
    // Jobs, tasks, environments.
    case("empty_jobs.json", "jobs", &[4], Some(11), "at least one job",
         ("\"jobs\": []", "\"jobs\": [{ \"id\": \"job-abcd1234\", \"tasks\": [{ \"name\": \"A\", \"instances\": 1, \"runtime\": \"1m\" }] }]")),
    case("malformed_job_id.json", "jobs[0].id", &[6], Some(13), "not a job id",
         ("job-ABC", "job-abc12345")),
    case("duplicate_job_id.json", "jobs[1].id", &[12], Some(13), "defined twice",
         ("\"id\": \"job-abcd1234\",\n      \"tasks\": [\n        { \"name\": \"B\"",
          "\"id\": \"job-abcd5678\",\n      \"tasks\": [\n        { \"name\": \"B\"")),
    case("duplicate_task_name.json", "jobs[0].tasks[1].name", &[9], Some(19), "defined twice",
         ("{ \"name\": \"A\", \"instances\": 3", "{ \"name\": \"B\", \"instances\": 3")),
    case("depends_on_missing_task.json", "jobs[0].tasks[1].depends_on[0]", &[10], Some(26), "no task `C`",
         ("[\"C\"]", "[\"A\"]")),
    case("depends_on_itself.json", "jobs[0].tasks[1].depends_on[1]", &[10], Some(31), "depends on itself",
         ("[\"A\", \"B\"]", "[\"A\"]")),
    case("dependency_cycle.json", "jobs[0].tasks[2].depends_on[0]", &[10], Some(72), "cycle",
         (", \"depends_on\": [\"A\"]", "")),
    case("env_undefined.json", "jobs[0].env", &[10], Some(14), "env-zzzz9999",
         ("env-zzzz9999", "env-k3l9x0ab")),
    case("malformed_environment_id.json", "environments[1].id", &[6], Some(13), "not an environment id",
         ("env_2", "env-00000002")),
    case("instances_zero.json", "jobs[0].tasks[0].instances", &[10], Some(24), "at least one instance",
         ("\"instances\": 0", "\"instances\": 1")),
    case("too_many_instances.json", "jobs[0].tasks[1].instances", &[9], Some(37), "10000000",
         ("\"B\", \"instances\": 6000000", "\"B\", \"instances\": 4000000")),
    // Backend.
    case("rate_limit_zero.json", "backend.api.limits.TerminateTaskInstance", &[7], Some(34), "rate limit",
         ("\"TerminateTaskInstance\": 0", "\"TerminateTaskInstance\": 1")),
    case("job_termination_workers_zero.json", "backend.job_termination.workers", &[7], Some(18), "workers",
         ("\"workers\": 0", "\"workers\": 1")),
    // Clients.
    case("client_missing_job.json", "clients[1]", &[14], Some(5), "needs `job`",
         ("\"at\": \"200s\" }", "\"at\": \"200s\", \"job\": \"job-abcd1234\" }")),
    case("terminate_job_with_indices.json", "clients[0].indices", &[17], Some(18), "does not apply",
         (",\n      \"indices\": [0, 1]", "")),
    case("indices_from_above_to.json", "clients[0].indices", &[18], None, "greater than",
         ("\"from\": 9, \"to\": 3", "\"from\": 3, \"to\": 9")),
    case("indices_range_too_large.json", "clients[0].indices", &[18], None, "more indices",
         ("-9223372036854775808, \"to\": 9223372036854775807", "0, \"to\": 9")),
    case("retry_max_attempts_zero.json", "clients[0].retry.max_attempts", &[19], Some(25), "attempts",
         ("\"max_attempts\": 0", "\"max_attempts\": 3")),
    case("unknown_client_type.json", "clients[0].type", &[14], None, "unknown variant `terminate_everything`",
         ("terminate_everything", "terminate_job")),
    // Trace clients and their CSV files. Columns count the characters before the cell: e.g.
    // `120,,TerminateTaskInstance,job-abcd1234,A,` is 5 + 22 + 13 + 2 = 42, so `one` is at 43.
    trace("trace_index_not_a_number.json", "trace_index_not_a_number.csv", &[3], 43, "`one` is not a whole number", ("A,one", "A,1")),
    trace("trace_out_of_order.json", "trace_out_of_order.csv", &[4], 1, "time order", ("150,", "250,")),
    trace("trace_unknown_action.json", "trace_unknown_action.csv", &[2], 6, "`TerminateInstance` is not an action", ("TerminateInstance", "TerminateJob")),
    trace("trace_cell_does_not_apply.json", "trace_cell_does_not_apply.csv", &[2], 32, "column `task_name`: does not apply to TerminateJob",
          ("job-abcd1234,A,", "job-abcd1234,,")),
    // `100,"night, ops",TerminateJob,job-abcd1234,,,` is 4 + 13 + 13 + 13 + 2 = 45: the comma
    // inside the quotes does not end a cell.
    trace("trace_quoted_account.json", "trace_quoted_account.csv", &[2], 46, "column `task_id`: does not apply", (",\"x\",", ",,")),
    // The header line: 65 characters before the ninth name.
    trace("trace_unknown_column.json", "trace_unknown_column.csv", &[1], 66, "unknown column `instance_id`", ("instance_id\n", "instance_ids\n")),
    trace("trace_bad_instance_ids.json", "trace_bad_instance_ids.csv", &[2], 40, "an empty instance id", (";;", ";")),
    // A quote left open in the last cell would swallow every later row: `60,,` (4),
    // `CancelInvocation,` (17), four empty cells (4) and `inv-abcd1234,` (13) precede it.
    trace("trace_quote_left_open.json", "trace_quote_left_open.csv", &[2], 39, "line break",
          ("\"ins-aaaaaaaa", "ins-aaaaaaaa")),
    // Lines ended by a lone CR, as the csv reader accepts: the bad row is the third line.
    trace("trace_cr_line_ends.json", "trace_cr_line_ends.csv", &[3], 32, "does not apply",
          ("job-abcd1234,A,", "job-abcd1234,,")),
    // A quote inside an unquoted cell is a character like any other: `100,` (4), `o"ps,` (5),
    // `TerminateJob,` (13), `job-abcd1234,` (13) precede the `A` at 36.
    trace("trace_quote_inside_cell.json", "trace_quote_inside_cell.csv", &[2], 36, "does not apply",
          ("job-abcd1234,A,", "job-abcd1234,,")),
    Case {
        file: "trace_csv_missing.json",
        shown: None,
        path: "clients[0].csv",
        lines: &[13],
        column: Some(31),
        message: "cannot read",
        fix: ("no_such_trace.csv", "", "at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n"),
    },
    case("trace_without_csv.json", "clients[0]", &[13], Some(5), "a trace client needs `csv`",
         ("\"at\": \"10s\"", "\"csv\": \"trace_valid.csv\"")),
    case("trace_with_job.json", "clients[0].job", &[13], Some(31), "`job` does not apply to a trace client",
         ("\"job\": \"job-abcd1234\", ", "")),
    // Expectations.
    case("bad_expect_rule.json", "expect.termination_latency_s.p99", &[14], Some(34), "about 3",
         ("\"about 3\"", "\"<= 3\"")),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn corpus() -> PathBuf {
    root().join("tests").join("malformed")
}

fn termsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("termsim starts")
}

/// The `error:` line of stderr, without the `error: ` prefix.
fn error_line(stderr: &str) -> Option<&str> {
    stderr.lines().find_map(|l| l.strip_prefix("error: "))
}

/// Checks one `FILE:LINE:COLUMN: PATH: message` line against a case; returns what is wrong.
fn check_message(case: &Case, shown: &str, line: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    let Some(rest) = line.strip_prefix(shown).and_then(|r| r.strip_prefix(':')) else {
        return vec![format!("does not start with `{shown}:`")];
    };
    let mut parts = rest.splitn(3, ':');
    let (l, c, rest) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
    let (Some(Ok(l)), Some(Ok(c))) = (l.map(str::parse::<usize>), c.map(str::parse::<usize>)) else {
        return vec!["no LINE:COLUMN after the file name".into()];
    };
    if !case.lines.contains(&l) {
        wrong.push(format!("line {l}, expected {}", show_lines(case.lines)));
    }
    if c == 0 {
        wrong.push("column 0 (columns are 1-based)".into());
    }
    if let Some(col) = case.column
        && c != col
    {
        wrong.push(format!("column {c}, expected {col}"));
    }
    let Some(rest) = rest.strip_prefix(' ') else {
        wrong.push("no space after LINE:COLUMN:".into());
        return wrong;
    };
    let message = if case.path.is_empty() {
        rest
    } else {
        let (path, message) = rest.split_once(": ").unwrap_or((rest, ""));
        let at_boundary = path
            .strip_prefix(case.path)
            .is_some_and(|tail| tail.is_empty() || tail.starts_with('.') || tail.starts_with('['));
        if !at_boundary {
            wrong.push(format!("path `{path}`, expected `{}`", case.path));
        }
        message
    };
    if !message.contains(case.message) {
        wrong.push(format!("message `{message}` lacks `{}`", case.message));
    }
    wrong
}

fn show_lines(lines: &[usize]) -> String {
    lines.iter().map(usize::to_string).collect::<Vec<_>>().join(" or ")
}

/// Runs `validate` and `run` on one case; returns what is wrong.
fn check_case(case: &Case) -> Vec<String> {
    let mut wrong = Vec::new();
    let file = format!("tests/malformed/{}", case.file);
    let shown = format!("tests/malformed/{}", case.shown.unwrap_or(case.file));

    let validate = termsim(&["validate", &file], root());
    let v_err = String::from_utf8_lossy(&validate.stderr).into_owned();
    if validate.status.code() != Some(2) {
        wrong.push(format!("validate exited with {:?}, expected 2", validate.status.code()));
    }
    if v_err.contains("panicked") {
        wrong.push("validate panicked".into());
    }
    let v_line = error_line(&v_err);
    match v_line {
        None => wrong.push("validate printed no `error:` line".into()),
        Some(line) => wrong.extend(check_message(case, &shown, line).into_iter().map(|w| format!("validate: {w}"))),
    }

    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("out");
    let run = termsim(&["run", &file, "--out", out.to_str().expect("a UTF-8 path"), "-q"], root());
    let r_err = String::from_utf8_lossy(&run.stderr).into_owned();
    if run.status.code() != Some(2) {
        wrong.push(format!("run exited with {:?}, expected 2", run.status.code()));
    }
    if r_err.contains("panicked") {
        wrong.push("run panicked".into());
    }
    let r_line = error_line(&r_err);
    if r_line.is_none() || r_line != v_line {
        wrong.push(format!("run's message `{}` differs from validate's", r_line.unwrap_or("")));
    }
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("the temporary folder is readable")
        .map(|e| e.expect("a folder entry").file_name().to_string_lossy().into_owned())
        .collect();
    if out.exists() || !left.is_empty() {
        wrong.push(format!("run left {left:?} behind (no `out`, no `.out.tmp-*` expected)"));
    }

    if !wrong.is_empty() {
        wrong.insert(0, format!("stderr of validate: {}", v_err.trim_end()));
    }
    wrong
}

#[test]
fn every_malformed_scenario_is_rejected_where_its_defect_is() {
    let mut failures = Vec::new();
    for case in CASES {
        let wrong = check_case(case);
        if !wrong.is_empty() {
            failures.push(format!("{}:\n    {}", case.file, wrong.join("\n    ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), CASES.len(), failures.join("\n"));
}

#[test]
fn each_case_is_valid_once_its_defect_is_fixed() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let mut failures = Vec::new();
    for case in CASES {
        // A fresh copy of the corpus's CSV files beside the fixed scenario.
        let dir = tmp.path().join(case.file.trim_end_matches(".json"));
        std::fs::create_dir(&dir).expect("a folder for the case");
        for entry in std::fs::read_dir(corpus()).expect("the corpus is readable") {
            let path = entry.expect("a corpus entry").path();
            if path.extension().is_some_and(|e| e == "csv") {
                std::fs::copy(&path, dir.join(path.file_name().expect("a file name"))).expect("copy a CSV");
            }
        }
        std::fs::copy(corpus().join(case.file), dir.join(case.file)).expect("copy the scenario");
        let (target, from, to) = case.fix;
        let target = dir.join(if target.is_empty() { case.file } else { target });
        if from.is_empty() {
            std::fs::write(&target, to).expect("write the missing file");
        } else {
            let text = std::fs::read_to_string(&target).expect("the file to fix");
            if !text.contains(from) {
                failures.push(format!("{}: the fix's text {from:?} is not in {}", case.file, target.display()));
                continue;
            }
            std::fs::write(&target, text.replacen(from, to, 1)).expect("write the fixed file");
        }
        let validate = termsim(&["validate", case.file], &dir);
        if !validate.status.success() {
            failures.push(format!(
                "{}: still invalid once fixed: {}",
                case.file,
                String::from_utf8_lossy(&validate.stderr).trim_end()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_of_the_corpus_is_in_the_table() {
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus is readable")
        .map(|e| e.expect("a corpus entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    files.sort();
    let mut listed: Vec<&str> = CASES.iter().map(|c| c.file).collect();
    listed.sort_unstable();
    let duplicated: Vec<&str> = listed.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    assert!(duplicated.is_empty(), "listed twice in CASES: {duplicated:?}");
    let untested: Vec<&String> = files.iter().filter(|f| !listed.contains(&f.as_str())).collect();
    assert!(untested.is_empty(), "in tests/malformed but not in CASES: {untested:?}");
    let missing: Vec<&&str> = listed.iter().filter(|c| !files.iter().any(|f| f == *c)).collect();
    assert!(missing.is_empty(), "in CASES but not in tests/malformed: {missing:?}");
    assert!(CASES.len() >= 24, "the corpus should hold at least 24 cases");
}
