//! `--format parquet` as its users read it: every table of a run, read by pyarrow, DuckDB,
//! polars and pandas (pinned, in a venv the test makes under `target/py-venv/parquet/`), is
//! equal to the same run's CSV table and agrees with its `summary.json` (`tests/parquet/read.py`
//! says what is checked). The scenarios cover every table, every column kind with nulls, named
//! environments, DLC and TAT, errors, an empty table, and a run long enough for several row
//! groups and pages.

use std::path::{Path, PathBuf};
use std::process::Command;

mod venv;

/// pip freeze of the readers, as checked here.
const READERS: &[&str] = &[
    "duckdb==2.0.1",
    "numpy==2.4.6",
    "pandas==3.1.1",
    "polars==2.1.0",
    "polars-runtime-32==2.1.0",
    "pyarrow==26.0.1",
    "python-dateutil==4.0.0",
    "tzdata==2026.6",
];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn termsim_run(scenario: &Path, out: &Path, format: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["run", "-q", "--format", format, "--out"])
        .arg(out)
        .arg(scenario)
        .output()
        .expect("termsim starts");
    assert!(output.status.success(), "termsim run {}: {}", scenario.display(), String::from_utf8_lossy(&output.stderr));
}

/// Runs `scenario` in both formats and has the readers compare them.
fn readers_agree(scenario: &Path) {
    let python = venv::python("parquet", READERS);
    let dir = tempfile::tempdir().unwrap();
    let (csv, parquet) = (dir.path().join("csv"), dir.path().join("parquet"));
    termsim_run(scenario, &csv, "csv");
    termsim_run(scenario, &parquet, "parquet");
    let output = Command::new(python)
        .arg(repo().join("tests/parquet/read.py"))
        .args([&csv, &parquet])
        .output()
        .expect("python starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.trim_end().ends_with("ok"),
        "{}:\n{stdout}{}",
        scenario.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    // The Parquet folder holds the same files with the other extension, no CSV.
    let names = |dir: &PathBuf| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().replace(".parquet", ".csv"))
            .collect();
        names.sort();
        names
    };
    assert_eq!(names(&csv), names(&parquet));
}

#[test]
fn every_table_of_the_example_scenarios_reads_the_same_in_every_reader() {
    for name in ["trace-replay", "rate-limit-storm", "failures-and-dependencies", "named-env-restart-cvm"] {
        readers_agree(&repo().join("scenarios").join(format!("{name}.json")));
    }
}

#[test]
fn a_run_of_several_row_groups_reads_the_same_in_every_reader() {
    // 150,000 instances: 1.5 million timeline rows, two row groups of 2^20 rows and 12 pages.
    let text = std::fs::read_to_string(repo().join("benches/scenarios/terminate-job-100k.json")).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["jobs"][0]["tasks"][0]["instances"] = 150_000.into();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("terminate-job-150k.json");
    std::fs::write(&scenario, value.to_string()).unwrap();
    readers_agree(&scenario);
}

#[test]
fn a_run_without_requests_has_an_empty_requests_table() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("quiet.json");
    let text = r#"{ "name": "quiet", "jobs": [ { "id": "job-quiet001", "tasks": [ { "name": "a", "instances": 3, "runtime": "1m" } ] } ] }"#;
    std::fs::write(&scenario, text).unwrap();
    readers_agree(&scenario);
}

#[test]
fn the_readmes_duckdb_and_pandas_snippets_run_as_printed() {
    let python = venv::python("parquet", READERS);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let block = |fence: &str| {
        let start = readme.find(fence).unwrap_or_else(|| panic!("no {fence} block in the README")) + fence.len();
        readme[start..start + readme[start..].find("```").unwrap()].to_owned()
    };
    let (sql, pandas) = (block("```sql\n"), block("```python\nimport pandas"));
    assert_eq!(sql.trim_end().lines().count(), 3, "the DuckDB query is three lines:\n{sql}");
    // Where the README says to run it: the default scenario, --out results/default-parquet.
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/default.json");
    termsim_run(&scenario, &dir.path().join("results/default-parquet"), "parquet");
    let script = format!("import duckdb\nprint(duckdb.sql('''{sql}'''))\nimport pandas{pandas}");
    let output = Command::new(python).args(["-c", &script]).current_dir(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    // summary.json of the default scenario: 1,483 bypass and 1,620 cvm instances.
    assert!(stdout.contains("1483") && stdout.contains("1620"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("bypass  1483.0")), "pandas' describe():\n{stdout}");
}
