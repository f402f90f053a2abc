//! Speed of the simulator itself: whole runs (events and task instances per second), the event
//! queue alone, the scenario loader, and drawing the charts.
//!
//! `cargo bench --bench simulate`. Runs use the `NullRecorder`, so they measure the model and
//! the engine, not the CSV writers (see the README for end-to-end figures with `termsim run`).

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use termsim::engine::{EventQueue, HeapQueue, RadixQueue, SimTime};
use termsim::model::{Config, Model, NullRecorder};
use termsim::output::{charts, plot};
use termsim::{RunOptions, run_to_dir};

fn load(file: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    termsim::scenario::load(&path).unwrap_or_else(|e| panic!("{e}")).config
}

fn events_of(config: &Config) -> u64 {
    let mut model = Model::new(config.clone(), NullRecorder).expect("a valid configuration");
    model.run().expect("the run ends");
    model.events()
}

/// The 100,000-instance TerminateJob scenario with another instance count.
fn terminate_job_of(instances: u64) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/terminate-job-100k.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
    value["jobs"][0]["tasks"][0]["instances"] = instances.into();
    value["name"] = format!("terminate-job-{instances}").into();
    termsim::scenario::parse(&value.to_string(), &path).unwrap_or_else(|e| panic!("{e}")).config
}

/// The 100,000-instance TerminateJob with the job submitted at 75 min (the client 75 min later).
fn late_terminate_job() -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/terminate-job-100k.json");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("readable")).expect("JSON");
    value["jobs"][0]["submit_at"] = "75m".into();
    value["clients"][0]["at"] = "4600s".into();
    value["horizon"] = "14h".into();
    termsim::scenario::parse(&value.to_string(), &path).unwrap_or_else(|e| panic!("{e}")).config
}

/// A scenario whose one client replays a generated trace of `rows` calls, 10 ms apart, of all four
/// actions from 50 accounts, against a 10,000-instance job, 1,000 DLC tasks and 1,000 TAT
/// invocations. The files live in the returned folder.
fn trace_scenario(rows: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    use std::fmt::Write;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dlc: Vec<String> = (0..1000).map(|k| format!("00000000-0000-4000-8000-{k:012}")).collect();
    let mut csv = String::from("at_s,account,action,job_id,task_name,index,task_id,invocation_id,instance_ids\n");
    for i in 0..rows {
        let (at, account) = (i as f64 / 100.0, format!("acct-{}", i % 50));
        let _ = match i % 4 {
            0 | 1 => writeln!(csv, "{at},{account},TerminateTaskInstance,job-bench001,A,{},,,", i % 10_000),
            2 => writeln!(csv, "{at},{account},CancelTask,,,,{},,", dlc[i % 1000]),
            _ => writeln!(csv, "{at},{account},CancelInvocation,,,,,inv-{:08},ins-{:08};ins-{:08}", i % 1000, 0, 1),
        };
    }
    std::fs::write(dir.path().join("trace.csv"), csv).expect("write the trace");
    let scenario = serde_json::json!({
        "name": "trace-bench",
        "horizon": "2h",
        "jobs": [ { "id": "job-bench001", "tasks": [ { "name": "A", "instances": 10_000, "runtime": "30m" } ] } ],
        "backend": { "quota": { "max_cvms": null } },
        "dlc": { "tasks": dlc.iter().map(|id| serde_json::json!({ "id": id })).collect::<Vec<_>>() },
        "tat": { "invocations": (0..1000).map(|k| serde_json::json!({
            "id": format!("inv-{k:08}"), "instances": (0..10).map(|n| format!("ins-{n:08}")).collect::<Vec<_>>() }))
            .collect::<Vec<_>>() },
        "clients": [ { "type": "trace", "csv": "trace.csv", "retry": {} } ]
    });
    let path = dir.path().join("trace-bench.json");
    std::fs::write(&path, scenario.to_string()).expect("write the scenario");
    (dir, path)
}

fn whole_runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("run");
    group.sample_size(10);
    let scenarios = [
        ("default", termsim::scenario::default_scenario().config),
        ("terminate_job_100k", load("benches/scenarios/terminate-job-100k.json")),
        // The same job submitted after 75 quiet minutes: its burst lands inside the event
        // queue's sorted front range, which once made every push scan it (50x slower).
        ("terminate_job_100k_late", late_terminate_job()),
        (
            "trace_100k_rows",
            termsim::scenario::load(&trace_scenario(100_000).1).unwrap_or_else(|e| panic!("{e}")).config,
        ),
    ];
    for (name, config) in scenarios {
        group.throughput(Throughput::Elements(events_of(&config)));
        group.bench_function(BenchmarkId::new("events", name), |b| {
            b.iter(|| {
                let mut model = Model::new(config.clone(), NullRecorder).expect("a valid configuration");
                model.run().expect("the run ends");
                black_box(model.events())
            })
        });
    }
    // The same TerminateJob at three sizes: throughput in task instances.
    for instances in [1_000u64, 10_000, 100_000] {
        let config = terminate_job_of(instances);
        group.throughput(Throughput::Elements(instances));
        group.bench_function(BenchmarkId::new("instances", instances), |b| {
            b.iter(|| {
                let mut model = Model::new(config.clone(), NullRecorder).expect("a valid configuration");
                model.run().expect("the run ends");
                black_box(model.events())
            })
        });
    }
    group.finish();
}

/// Reading and checking scenario files: the default, and one with every feature.
fn loader(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    for file in
        ["scenarios/default.json", "scenarios/failures-and-dependencies.json", "scenarios/rate-limit-storm.json"]
    {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect("readable");
        group.throughput(Throughput::Bytes(text.len() as u64));
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a name").to_owned();
        group.bench_function(BenchmarkId::new("parse", name), |b| {
            b.iter(|| black_box(termsim::scenario::parse(&text, &path).expect("valid").config.total_instances()))
        });
    }
    // A scenario with a 100,000-row trace: reading and checking the CSV dominates.
    let rows = 100_000;
    let (_dir, path) = trace_scenario(rows);
    let text = std::fs::read_to_string(&path).expect("readable");
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function(BenchmarkId::new("trace_rows", rows), |b| {
        b.iter(|| black_box(termsim::scenario::parse(&text, &path).expect("valid").config.clients.len()))
    });
    group.finish();
}

/// The hold model: with `pending` events queued, pop one and push one a pseudo-random delay
/// later, as a simulation does.
fn hold<Q: EventQueue<u32>>(mut queue: Q, pending: u32, operations: u32) -> u64 {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next_delay = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % 1_000_000_000
    };
    for i in 0..pending {
        queue.push(SimTime(next_delay()), i);
    }
    let mut checksum = 0u64;
    for _ in 0..operations {
        let (t, e) = queue.pop().expect("never empty");
        checksum = checksum.wrapping_add(t.micros() ^ u64::from(e));
        queue.push(SimTime(t.micros() + next_delay()), e);
    }
    checksum
}

/// `n` events at one instant; each pop of the first `n` pushes another at that instant.
fn same_instant_chain<Q: EventQueue<u32>>(mut queue: Q, n: u32) -> u64 {
    for label in 0..n {
        queue.push(SimTime(1_000), label);
    }
    let mut checksum = 0u64;
    while let Some((t, label)) = queue.pop() {
        checksum = checksum.wrapping_add(u64::from(label));
        if label < n {
            queue.push(t, label + n);
        }
    }
    checksum
}

fn event_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue");
    group.sample_size(10);
    const OPS: u32 = 1_000_000;
    // Every popped event schedules another at the same instant (zero delays), 100,000 deep.
    group.throughput(Throughput::Elements(200_000));
    group.bench_function(BenchmarkId::new("radix", "same_instant_chain"), |b| {
        b.iter(|| same_instant_chain(RadixQueue::new(), 100_000))
    });
    group.bench_function(BenchmarkId::new("binary_heap", "same_instant_chain"), |b| {
        b.iter(|| same_instant_chain(HeapQueue::default(), 100_000))
    });
    for pending in [1_000u32, 100_000, 1_000_000] {
        group.throughput(Throughput::Elements(u64::from(OPS)));
        group.bench_with_input(BenchmarkId::new("radix", pending), &pending, |b, &n| {
            b.iter(|| hold(RadixQueue::new(), n, OPS))
        });
        group.bench_with_input(BenchmarkId::new("binary_heap", pending), &pending, |b, &n| {
            b.iter(|| hold(HeapQueue::default(), n, OPS))
        });
    }
    group.finish();
}

/// The charts of a 100,000-instance TerminateJob: drawing them from the run's aggregates (what
/// a run adds at its end), and reading a results folder back (what `termsim plot` adds).
fn charts(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let results = tmp.path().join("results");
    let scenario = termsim::scenario::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/scenarios/terminate-job-100k.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let options =
        RunOptions { out: results.clone(), timeline: true, charts: true, progress: false, format: Default::default() };
    run_to_dir(&scenario, &options).expect("the run writes its results");
    let (meta, data) = plot::read_results(&results).expect("the results read back");

    let mut group = c.benchmark_group("charts");
    group.sample_size(10);
    let mut round = 0;
    group.bench_function("draw_all/terminate_job_100k", |b| {
        b.iter_batched(
            || {
                round += 1;
                let dir = tmp.path().join(format!("charts-{round}"));
                std::fs::create_dir(&dir).expect("a fresh folder");
                (data.clone(), dir)
            },
            |(data, dir)| black_box(charts::draw_all(&meta, data, &dir).expect("charts are drawn")),
            BatchSize::PerIteration,
        )
    });
    group.bench_function("read_results/terminate_job_100k", |b| {
        b.iter(|| black_box(plot::read_results(&results).expect("the results read back").1.instances))
    });
    group.finish();
}

criterion_group!(benches, whole_runs, event_queue, loader, charts);
criterion_main!(benches);
