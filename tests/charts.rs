//! The charts of a run and `termsim plot`: every file valid and labelled, drawn with text from
//! the bundled font, redrawn byte for byte from the CSV files, and sensible when nothing was
//! terminated. Also `occupancy.csv`, which the progress chart is drawn from.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn termsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_termsim")).args(args).output().expect("termsim runs")
}

fn run(scenario: Option<&Path>, out: &Path, extra: &[&str]) {
    let mut args = vec!["run".to_owned()];
    args.extend(scenario.map(|s| s.to_str().unwrap().to_owned()));
    args.extend(["--out".to_owned(), out.to_str().unwrap().to_owned(), "-q".to_owned()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = termsim(&args);
    assert!(o.status.code() == Some(0) || o.status.code() == Some(1), "{}", String::from_utf8_lossy(&o.stderr));
}

fn write_scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, text).unwrap();
    path
}

/// The charts every run draws, and the two that need `timeline.csv`.
const ALWAYS: [&str; 4] = ["progress", "termination-latency-cdf", "release-latency-cdf", "api-calls"];
const WITH_TIMELINE: [&str; 2] = ["instance-states", "job-termination"];
/// Drawn when the run has DLC tasks or TAT invocations.
const CANCELLATIONS: &str = "cancel-latency-cdf";

/// Every `<text>` of an SVG, which must parse as XML.
fn svg_texts(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{} is not valid XML: {e}", path.display()));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).map(|t| t.trim().to_owned()).collect()
}

/// Decodes a PNG; returns its size and RGB pixels.
fn png_pixels(path: &Path) -> ((u32, u32), Vec<u8>) {
    let bytes = fs::read(path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} has no PNG signature", path.display());
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    ((info.width, info.height), pixels[..info.buffer_size()].to_vec())
}

fn chart_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir.join("charts")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

fn expected_files(charts: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = charts.iter().flat_map(|c| [format!("{c}.png"), format!("{c}.svg")]).collect();
    names.sort();
    names
}

#[test]
fn every_chart_is_a_valid_png_and_svg_labelled_with_its_axes() {
    let tmp = tempfile::tempdir().unwrap();
    run(None, tmp.path(), &[]);
    let all: Vec<&str> = ALWAYS.iter().chain(&WITH_TIMELINE).copied().collect();
    assert_eq!(chart_files(tmp.path()), expected_files(&all));

    // The default scenario runs for about an hour: time axes are in minutes.
    let labels: [(&str, &[&str]); 6] = [
        ("progress", &["time since start (min)", "count", "CVMs alive (peak 2,500)", "quota limit (2,500)"]),
        ("termination-latency-cdf", &["termination latency (s)", "instances at or below (%)"]),
        ("release-latency-cdf", &["release latency (s)", "instances at or below (%)"]),
        ("api-calls", &["time since start (s)", "calls per second", "RequestLimitExceeded"]),
        ("instance-states", &["time since start (min)", "terminate request", "RUNNING"]),
        ("job-termination", &["time since start (s)", "instances final (%)"]),
    ];
    for (chart, wanted) in labels {
        let texts = svg_texts(&tmp.path().join(format!("charts/{chart}.svg")));
        for w in wanted {
            assert!(texts.iter().any(|t| t.contains(w)), "{chart}.svg lacks `{w}`: {texts:?}");
        }
        let ((width, height), pixels) = png_pixels(&tmp.path().join(format!("charts/{chart}.png")));
        assert_eq!(width, 1280);
        assert!(height >= 400, "{chart}.png is {height} px high");
        // The title is text on a white background: its strip must hold dark pixels, which only
        // the bundled font can have drawn.
        let title_strip = &pixels[..(width * 30 * 3) as usize];
        let dark = title_strip.chunks(3).filter(|p| p.iter().all(|&c| c < 100)).count();
        assert!(dark > 200, "{chart}.png has {dark} dark pixels in its title strip: no text drawn");
    }
    // The CDF legends name each path with its figures, as summary.json has them.
    let texts = svg_texts(&tmp.path().join("charts/termination-latency-cdf.svg"));
    assert!(texts.iter().any(|t| t.starts_with("bypass: 1,483 instances")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("all paths: 3,103 instances") && t.ends_with("p99 174.909 s")),
        "{texts:?}"
    );
    // The Gantt sample shows every path that occurred, at most 200 rows.
    let texts = svg_texts(&tmp.path().join("charts/instance-states.svg"));
    for group in ["bypass: 60 of 1,483", "cvm: 59 of 1,620", "no_op: 22 of 22", "none: 59 of 275"] {
        assert!(texts.iter().any(|t| t == group), "instance-states.svg lacks `{group}`: {texts:?}");
    }
}

#[test]
fn plot_redraws_every_example_runs_charts_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut scenarios: Vec<PathBuf> = fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    scenarios.sort();
    assert!(scenarios.len() >= 6);
    for (i, scenario) in scenarios.iter().enumerate() {
        let out = tmp.path().join(format!("run{i}"));
        // One example without its timeline: plot must then draw the same four charts.
        let lean = i == 1;
        run(Some(scenario), &out, if lean { &["--no-timeline"] } else { &[] });
        let drawn = chart_files(&out);
        let before: Vec<Vec<u8>> = drawn.iter().map(|f| fs::read(out.join("charts").join(f)).unwrap()).collect();
        fs::remove_dir_all(out.join("charts")).unwrap();
        let o = termsim(&["plot", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(chart_files(&out), drawn, "{}", scenario.display());
        for (file, bytes) in drawn.iter().zip(before) {
            assert!(
                fs::read(out.join("charts").join(file)).unwrap() == bytes,
                "{file} of {} differs",
                scenario.display()
            );
        }
        let mut expected: Vec<&str> =
            if lean { ALWAYS.to_vec() } else { ALWAYS.iter().chain(&WITH_TIMELINE).copied().collect() };
        let value: serde_json::Value = serde_json::from_str(&fs::read_to_string(scenario).unwrap()).unwrap();
        let has = |pointer: &str| value.pointer(pointer).and_then(|v| v.as_array()).is_some_and(|a| !a.is_empty());
        if has("/dlc/tasks") || has("/tat/invocations") {
            expected.push(CANCELLATIONS);
        }
        assert_eq!(drawn, expected_files(&expected), "{}", scenario.display());
    }
}

#[test]
fn a_run_with_no_termination_still_draws_every_chart_and_says_why_they_are_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        tmp.path(),
        "quiet",
        r#"{ "name": "quiet", "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 5, "runtime": "10m" } ] } ] }"#,
    );
    let out = tmp.path().join("out");
    run(Some(&scenario), &out, &[]);
    let all: Vec<&str> = ALWAYS.iter().chain(&WITH_TIMELINE).copied().collect();
    assert_eq!(chart_files(&out), expected_files(&all));
    let says = |chart: &str, what: &str| {
        let texts = svg_texts(&out.join(format!("charts/{chart}.svg")));
        assert!(texts.iter().any(|t| t.contains(what)), "{chart}.svg lacks `{what}`: {texts:?}");
    };
    says("termination-latency-cdf", "no termination latency: no instance was terminated");
    says("release-latency-cdf", "no release latency: no instance was terminated");
    says("api-calls", "no API calls in this run");
    says("job-termination", "no TerminateJob was accepted in this run");
    says("progress", "instances terminated, cumulative (0)");
    says("progress", "CVMs alive (peak 5)");
    says("instance-states", "none: 5 of 5");
    for chart in all {
        png_pixels(&out.join(format!("charts/{chart}.png")));
    }
}

#[test]
fn a_parquet_run_draws_the_csv_runs_charts_and_plot_redraws_them_from_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut scenarios: Vec<PathBuf> = fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    scenarios.sort();
    for (i, scenario) in scenarios.iter().enumerate() {
        let (csv, parquet) = (tmp.path().join(format!("csv{i}")), tmp.path().join(format!("parquet{i}")));
        run(Some(scenario), &csv, &[]);
        run(Some(scenario), &parquet, &["--format", "parquet"]);
        assert!(parquet.join("timeline.parquet").is_file() && !parquet.join("timeline.csv").exists());
        let drawn = chart_files(&csv);
        assert_eq!(chart_files(&parquet), drawn, "{}", scenario.display());
        fs::remove_dir_all(parquet.join("charts")).unwrap();
        let o = termsim(&["plot", parquet.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for file in &drawn {
            assert!(
                fs::read(csv.join("charts").join(file)).unwrap()
                    == fs::read(parquet.join("charts").join(file)).unwrap(),
                "{file} of {} differs between the formats",
                scenario.display()
            );
        }
    }
}

#[test]
fn plot_names_a_damaged_parquet_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.json")), &out, &["--format", "parquet"]);
    let file = out.join("requests.parquet");
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let o = termsim(&["plot", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&format!("{}:", file.display())), "{stderr}");
}

#[test]
fn plot_refuses_a_parquet_row_group_that_claims_more_rows_than_it_holds() {
    // The footer of occupancy.parquet rewritten so that each row group claims 2^62 rows: plot
    // must name the file and exit 2, neither allocate for them nor panic.
    use parquet::file::metadata::ParquetMetaDataWriter;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(Some(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/default.json")), &out, &["--format", "parquet"]);
    let file = out.join("occupancy.parquet");
    let bytes = fs::read(&file).unwrap();
    let metadata = SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap().metadata().clone();
    let claimed: Vec<_> =
        metadata.row_groups().iter().map(|g| g.clone().into_builder().set_num_rows(1 << 62).build().unwrap()).collect();
    let metadata = metadata.into_builder().set_row_groups(claimed).build();
    let footer = u32::from_le_bytes(bytes[bytes.len() - 8..bytes.len() - 4].try_into().unwrap()) as usize;
    let mut damaged = bytes[..bytes.len() - 8 - footer].to_vec();
    ParquetMetaDataWriter::new(&mut damaged, &metadata).finish().unwrap();
    fs::write(&file, &damaged).unwrap();
    assert_eq!(
        SerializedFileReader::new(bytes::Bytes::from(damaged)).unwrap().metadata().row_group(0).num_rows(),
        1 << 62
    );

    let o = termsim(&["plot", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&format!("{}:", file.display())) && stderr.contains("rows"), "{stderr}");
}

#[test]
fn the_cancellation_chart_has_a_line_per_kind_of_task_and_plot_redraws_it() {
    // Constant delays: the DLC task, RUNNING from 17 s, cancelled at 100 s: CANCELLED at 103
    // (3 s). The TAT invocation starts at 10 s; its tasks are DELIVERING 11..13 and then RUNNING.
    // Instance A cancelled at 12 s: undelivered, CANCELLED at once (0 s). Instance B at 20 s:
    // running, TERMINATED after the 5 s kill.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        tmp.path(),
        "cancels",
        r#"{ "name": "cancels",
             "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 1, "runtime": "1h" } ] } ],
             "dlc": { "tasks": [ { "id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564", "submit_at": "10s", "queued": "5s",
                                   "initializing": "2s", "running": "10m", "cancel_delay": "3s" } ] },
             "tat": { "invocations": [ { "id": "inv-aaaaaaaa", "at": "10s", "instances": ["ins-aaaaaaaa", "ins-bbbbbbbb"],
                                         "pending": "1s", "delivery": "2s", "runtime": "1m", "kill_delay": "5s" } ] },
             "clients": [
               { "type": "cancel_invocation", "at": "12s", "invocation": "inv-aaaaaaaa", "instances": ["ins-aaaaaaaa"] },
               { "type": "cancel_invocation", "at": "20s", "invocation": "inv-aaaaaaaa", "instances": ["ins-bbbbbbbb"] },
               { "type": "cancel_task", "at": "100s", "task_id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564" } ] }"#,
    );
    let out = tmp.path().join("out");
    run(Some(&scenario), &out, &["--no-timeline"]);
    let mut expected = ALWAYS.to_vec();
    expected.push(CANCELLATIONS);
    assert_eq!(chart_files(&out), expected_files(&expected));
    let svg = out.join(format!("charts/{CANCELLATIONS}.svg"));
    let texts = svg_texts(&svg);
    for line in [
        "all: 3 tasks, p50 3 s, p99 5 s",
        "DLC task: 1 task, p50 3 s, p99 3 s",
        "TAT task, undelivered (CANCELLED): 1 task, p50 0 s, p99 0 s",
        "TAT task, running (TERMINATED): 1 task, p50 5 s, p99 5 s",
        "cancel latency (s)",
        "tasks at or below (%)",
    ] {
        assert!(texts.iter().any(|t| t == line), "lacks `{line}`: {texts:?}");
    }
    let before = fs::read(&svg).unwrap();
    fs::remove_dir_all(out.join("charts")).unwrap();
    assert!(termsim(&["plot", out.to_str().unwrap()]).status.success());
    assert!(fs::read(&svg).unwrap() == before, "plot draws the cancellation chart differently");

    // Without a cancel the chart is still drawn, and says why it is empty.
    let none = write_scenario(
        tmp.path(),
        "no-cancels",
        r#"{ "name": "no-cancels",
             "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 1, "runtime": "1h" } ] } ],
             "dlc": { "tasks": [ { "id": "4ad30ca9-8b0e-499f-b4e1-d6e43ba0e564", "running": "10m" } ] } }"#,
    );
    let out = tmp.path().join("out-none");
    run(Some(&none), &out, &["--no-timeline"]);
    let texts = svg_texts(&out.join(format!("charts/{CANCELLATIONS}.svg")));
    assert!(texts.iter().any(|t| t == "no cancel latency: no DLC or TAT task was cancelled"), "{texts:?}");
}

#[test]
fn no_charts_draws_none() {
    let tmp = tempfile::tempdir().unwrap();
    run(None, tmp.path(), &["--no-charts"]);
    assert!(!tmp.path().join("charts").exists());
    assert!(tmp.path().join("occupancy.csv").exists());
}

/// Quota 3 and one create call per second: the three grants are made at once when the
/// instances become RUNNABLE (2 s), but the CVMs come into being one call at a time, at 2, 3
/// and 4 s: quota in use leads CVMs alive while calls wait. Each run ends after 1 h
/// (SUCCEED at 3,692, 3,693, 3,694 s), its CVM is terminated in 10 s and the quota comes back:
/// 3,702, 3,703 and 3,704 s.
#[test]
fn occupancy_counts_quota_granted_before_the_cvm_exists() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        tmp.path(),
        "occupancy",
        r#"{ "name": "occupancy", "seed": 7, "horizon": "10h",
             "backend": { "api": { "latency": "0s" }, "submit_delay": "2s",
                          "cvm": { "creation_delay": "90s", "termination_delay": "10s", "create_rate_limit": 1 },
                          "quota": { "max_cvms": 3 } },
             "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 3, "runtime": "1h" } ] } ] }"#,
    );
    let out = tmp.path().join("out");
    run(Some(&scenario), &out, &[]);
    assert_eq!(
        fs::read_to_string(out.join("occupancy.csv")).unwrap(),
        "time_s,cvms_alive,quota_in_use\n\
         2.000000,1,3\n\
         3.000000,2,3\n\
         4.000000,3,3\n\
         3702.000000,2,2\n\
         3703.000000,1,1\n\
         3704.000000,0,0\n"
    );
}

/// A malformed job id with a comma and a quote is a legal target (an erroneous caller): it is
/// quoted in requests.csv, and an error after it is still placed at the right column.
#[test]
fn plot_places_errors_after_a_quoted_field_at_the_right_column() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(
        tmp.path(),
        "quoted",
        r#"{ "name": "quoted", "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 1, "runtime": "1m" } ] } ],
             "clients": [ { "type": "terminate_job", "at": "10s", "job": "bad,id\"x" } ] }"#,
    );
    let out = tmp.path().join("out");
    run(Some(&scenario), &out, &[]);
    let requests = fs::read_to_string(out.join("requests.csv")).unwrap();
    let row = requests.lines().nth(1).unwrap();
    assert!(row.contains(r#","bad,id""x","#), "{row}");
    let damaged_row = row.replacen(",10.000000,", ",ten,", 1);
    let column = damaged_row.find(",ten,").unwrap() + 2;
    fs::write(out.join("requests.csv"), requests.replacen(row, &damaged_row, 1)).unwrap();
    let o = termsim(&["plot", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(&format!("requests.csv:2:{column}: column `sent_s`: `ten` is not a time")), "{stderr}");
}

#[test]
fn plot_rejects_damaged_results_naming_file_line_and_column_and_keeps_the_old_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let fail = |dir: &Path| -> String {
        let o = termsim(&["plot", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let stderr = fail(&tmp.path().join("nothing-here"));
    assert!(stderr.contains("summary.json") && stderr.contains("results folder"), "{stderr}");

    let out = tmp.path().join("out");
    run(None, &out, &[]);
    let progress_before = fs::read(out.join("charts/progress.png")).unwrap();

    let instances = fs::read_to_string(out.join("instances.csv")).unwrap();
    fs::write(
        out.join("instances.csv"),
        instances.replacen(",anonymous,FAILED,cvm,", ",anonymous,FAILED,sideways,", 1),
    )
    .unwrap();
    let stderr = fail(&out);
    let line = instances.lines().position(|l| l.contains(",anonymous,FAILED,cvm,")).unwrap() + 1;
    // job-render01,frames,N,anonymous,FAILED, is 5 fields before `path`.
    let damaged = instances.lines().nth(line - 1).unwrap();
    let column = damaged.match_indices(',').nth(4).unwrap().0 + 2;
    assert!(
        stderr.contains(&format!("instances.csv:{line}:{column}: column `path`: `sideways` is not a termination path")),
        "{stderr}"
    );
    fs::write(out.join("instances.csv"), &instances).unwrap();

    let timeline = fs::read_to_string(out.join("timeline.csv")).unwrap();
    fs::write(out.join("timeline.csv"), timeline.replacen("0.000000,instance,", "zero,instance,", 1)).unwrap();
    let stderr = fail(&out);
    assert!(stderr.contains("timeline.csv:4:1: column `time_s`: `zero` is not a time in seconds"), "{stderr}");
    fs::write(out.join("timeline.csv"), &timeline).unwrap();

    let requests = fs::read_to_string(out.join("requests.csv")).unwrap();
    fs::write(out.join("requests.csv"), "request_id,sent_s\n").unwrap();
    let stderr = fail(&out);
    assert!(stderr.contains("requests.csv:1:1: the header is not"), "{stderr}");
    fs::write(out.join("requests.csv"), &requests).unwrap();

    // Cut inside the last field, which still parses as a number.
    let occupancy = fs::read_to_string(out.join("occupancy.csv")).unwrap();
    fs::write(out.join("occupancy.csv"), &occupancy[..occupancy.len() - 2]).unwrap();
    let stderr = fail(&out);
    assert!(stderr.contains("occupancy.csv: does not end with a line break: the file was cut short"), "{stderr}");
    // Rows out of time order.
    let mut rows: Vec<&str> = occupancy.lines().collect();
    rows.swap(5, 6);
    fs::write(out.join("occupancy.csv"), rows.join("\n") + "\n").unwrap();
    let stderr = fail(&out);
    assert!(
        stderr.contains("occupancy.csv:7:1: column `time_s`:") && stderr.contains("rows are in time order"),
        "{stderr}"
    );
    fs::write(out.join("occupancy.csv"), &occupancy).unwrap();

    // Whole rows missing: the counts no longer match summary.json.
    let cut = instances.lines().take(3400).collect::<Vec<_>>().join("\n") + "\n";
    fs::write(out.join("instances.csv"), cut).unwrap();
    let stderr = fail(&out);
    assert!(stderr.contains("instances.csv: 3399 rows, but summary.json has 3400 at `/instances/total`"), "{stderr}");
    fs::write(out.join("instances.csv"), &instances).unwrap();

    // A file where the charts folder should be is left alone.
    let charts = out.join("charts");
    fs::rename(&charts, tmp.path().join("charts-aside")).unwrap();
    fs::write(&charts, "not a folder").unwrap();
    let stderr = fail(&out);
    assert!(stderr.contains("exists and is not a folder"), "{stderr}");
    assert_eq!(fs::read_to_string(&charts).unwrap(), "not a folder");
    fs::remove_file(&charts).unwrap();
    fs::rename(tmp.path().join("charts-aside"), &charts).unwrap();

    assert_eq!(fs::read(out.join("charts/progress.png")).unwrap(), progress_before, "a failed plot changed the charts");
    let leftovers: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left behind: {leftovers:?}");
}

/// Found by fuzzing `plot`: times near 2^64 µs overflowed the charts' arithmetic (the axis end,
/// the API-call bins); a TerminateJob or a terminate request far after `sim_end_s` was drawn so
/// far off the axis that its pixel coordinate overflowed; made-up actions, a panel each, made a
/// chart of any height. Such times and actions are now refused naming the file, line and column;
/// the axis covers every time drawn on it.
#[test]
fn plot_refuses_times_and_actions_no_run_writes_and_stretches_the_axis_to_late_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    run(None, &out, &[]);
    let fail = |file: &str, text: &str, expected: &str| {
        let original = fs::read_to_string(out.join(file)).unwrap();
        fs::write(out.join(file), text).unwrap();
        let o = termsim(&["plot", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {stderr}");
        assert!(stderr.contains(expected), "{file}: {stderr}");
        fs::write(out.join(file), original).unwrap();
    };
    let requests = fs::read_to_string(out.join("requests.csv")).unwrap();
    let row = requests.lines().nth(1).unwrap();
    let late = row.replacen(",100.000000,", ",18446744073709.551615,", 1);
    let column = late.find(",18446744073709").unwrap() + 2;
    fail(
        "requests.csv",
        &requests.replacen(row, &late, 1),
        &format!(
            "requests.csv:2:{column}: column `sent_s`: `18446744073709.551615` is after 315360000.000000 s (ten years)"
        ),
    );
    // A panel per action: 1,500 made-up actions took 20 s and 1.8 GB to draw.
    let made_up = row.replacen(",TerminateJob,", ",Action1499,", 1);
    let column = made_up.find(",Action1499,").unwrap() + 2;
    fail(
        "requests.csv",
        &requests.replacen(row, &made_up, 1),
        &format!("requests.csv:2:{column}: column `action`: `Action1499` is not an action of the API termsim answers"),
    );
    let summary = fs::read_to_string(out.join("summary.json")).unwrap();
    let sim_end = summary.lines().find(|l| l.contains("\"sim_end_s\"")).unwrap();
    fail(
        "summary.json",
        &summary.replacen(sim_end, "  \"sim_end_s\": 1e300,", 1),
        "summary.json: `sim_end_s` is not a time (seconds from 0 to 315360000.000000",
    );

    // A TerminateJob accepted ten years in: the progress chart's axis reaches it (in hours)
    // instead of ending at the last state change (about an hour, in minutes).
    let late = summary.replacen("\"terminate_requested_s\": 100.0,", "\"terminate_requested_s\": 315360000.0,", 1);
    assert_ne!(late, summary);
    fs::write(out.join("summary.json"), late).unwrap();
    let o = termsim(&["plot", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let texts = svg_texts(&out.join("charts/progress.svg"));
    assert!(texts.iter().any(|t| t == "time since start (h)"), "{texts:?}");
}
