//! The `termsim` command line: parses arguments, calls the library and prints what it returns.
//! `main` only maps the outcome to an exit code: a [`Status`] (0 success, 1 an expectation or a
//! check failed) or an [`Error`] (2, bad input or outputs that could not be written), printed as
//! `error: MESSAGE` on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `eprintln!` and `println!` that do not panic when the other end of a pipe has gone
/// (`termsim schema | head -1`): a closed pipe is not an error of termsim's.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
use termsim::scenario::{self, Scenario};
use termsim::sweep::spec::Shard;
use termsim::{Error, RunOptions, Status, run_to_dir};

#[derive(Parser)]
#[command(name = "termsim", version, about = "Simulates a cloud batch service's termination backend")]
struct Cli {
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs one scenario (without SCENARIO: the built-in default) and writes its outputs.
    Run {
        /// A scenario file (JSON).
        scenario: Option<PathBuf>,
        /// Output folder. Default: results/<scenario name>/
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overrides the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Draw no charts.
        #[arg(long)]
        no_charts: bool,
        /// Do not write the timeline (timeline.csv or timeline.parquet).
        #[arg(long)]
        no_timeline: bool,
        /// The tables' format: csv, or parquet (typed columns, zstd; for pandas, polars, DuckDB).
        #[arg(long, value_enum, default_value_t)]
        format: termsim::output::Format,
    },
    /// Checks scenario files without running them.
    Validate {
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
    /// Prints the JSON Schema of scenario files.
    Schema,
    /// A capacity study: the points × replications of a sweep file, in parallel.
    Sweep {
        /// A sweep file (JSON).
        sweep: PathBuf,
        /// Output folder. Default: results/sweeps/<sweep name>/ (…/<name>.shard-K-of-N/ for a shard)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs at once. Default: all cores.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only the rows whose index modulo N is K-1 (K from 1 to N), for `merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Joins shard folders of one sweep into the results of the whole sweep.
    Merge {
        /// The shard folders, in any order.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Re-runs a scenario and compares its latency figures with a stored summary.json.
    Check {
        scenario: PathBuf,
        /// A summary.json of an earlier run (e.g. results/baselines/NAME.json), or its results
        /// folder (CSV or Parquet).
        #[arg(long)]
        baseline: PathBuf,
        /// How much a latency may grow before the check fails, in per cent.
        #[arg(long, default_value_t = 5.0, value_name = "PCT")]
        tolerance: f64,
        /// Write the current summary as the new baseline (exit 0).
        #[arg(long)]
        update: bool,
    },
    /// Serves the scenario's model behind the Tencent Cloud API (Batch, DLC, TAT) for the
    /// official SDKs and tccli; on stop writes the outputs, the session and a scenario that
    /// replays it.
    Serve {
        /// A scenario file (JSON). Default: the built-in default scenario.
        scenario: Option<PathBuf>,
        /// Address to listen on (port 0: any free port, printed at start).
        #[arg(long, default_value = "127.0.0.1:9000")]
        listen: std::net::SocketAddr,
        /// Simulated seconds per wall second.
        #[arg(long, default_value_t = 1.0, conflicts_with = "clock")]
        speed: f64,
        /// `manual`: time moves only by POST /termsim/advance, and answers are sent at once.
        #[arg(long, value_parser = ["manual"])]
        clock: Option<String>,
        /// JSON file: SecretId -> {"secret_key", "account"}; turns on signature checks.
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// Output folder. Default: results/<scenario name>-serve/
        #[arg(long)]
        out: Option<PathBuf>,
        /// Draw no charts.
        #[arg(long)]
        no_charts: bool,
        /// Do not write the timeline (timeline.csv or timeline.parquet).
        #[arg(long)]
        no_timeline: bool,
        /// The tables' format: csv, or parquet (session.csv and http.csv stay CSV).
        #[arg(long, value_enum, default_value_t)]
        format: termsim::output::Format,
    },
    /// Draws a results folder's charts again from its tables, CSV or Parquet (into DIR/charts/).
    Plot {
        /// A results folder written by `termsim run`.
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match try_main(&cli) {
        Ok(status) => status.exit_code(),
        Err(e) => {
            report(&e);
            e.exit_code()
        }
    };
    ExitCode::from(code)
}

fn report(e: &Error) {
    say!("error: {e}");
}

fn try_main(cli: &Cli) -> Result<Status, Error> {
    match &cli.command {
        Command::Run { scenario, out, seed, no_charts, no_timeline, format } => {
            let flags = RunFlags { seed: *seed, no_charts: *no_charts, no_timeline: *no_timeline, format: *format };
            run(cli, scenario, out, flags)
        }
        Command::Validate { scenarios } => Ok(validate(scenarios)),
        Command::Schema => {
            out!("{}", serde_json::to_string_pretty(&scenario::schema()).expect("plain JSON"));
            Ok(Status::Success)
        }
        Command::Sweep { sweep, out, jobs, shard } => run_sweep(cli, sweep, out, *jobs, shard.as_deref()),
        Command::Merge { dirs, out } => {
            let out = termsim::sweep::merge(dirs, out)?;
            say!("{} shard folders merged into {}", dirs.len(), out.display());
            Ok(Status::Success)
        }
        Command::Check { scenario, baseline, tolerance, update } => check(scenario, baseline, *tolerance, *update),
        Command::Serve { scenario, listen, speed, clock, credentials, out, no_charts, no_timeline, format } => {
            let flags = RunFlags { seed: None, no_charts: *no_charts, no_timeline: *no_timeline, format: *format };
            serve(scenario, *listen, *speed, clock.is_some(), credentials, out, flags)
        }
        Command::Plot { dir } => {
            let drawn = termsim::output::plot::plot(dir)?;
            say!("{} charts drawn in {}: {}", drawn.len(), dir.join("charts").display(), drawn.join(", "));
            Ok(Status::Success)
        }
    }
}

fn load(path: &Option<PathBuf>) -> Result<Scenario, Error> {
    match path {
        Some(p) => Ok(scenario::load(p)?),
        None => Ok(scenario::default_scenario()),
    }
}

/// A figure of the summary as `summary.json` writes it (`null`, `174.908795`, `60.0`).
fn json_number(value: Option<f64>) -> String {
    serde_json::to_string(&value).expect("a number or null")
}

struct RunFlags {
    seed: Option<u64>,
    no_charts: bool,
    no_timeline: bool,
    format: termsim::output::Format,
}

fn run(cli: &Cli, path: &Option<PathBuf>, out: &Option<PathBuf>, flags: RunFlags) -> Result<Status, Error> {
    let mut scenario = load(path)?;
    for w in &scenario.warnings {
        say!("{w}");
    }
    if let Some(seed) = flags.seed {
        scenario.config.seed = seed;
    }
    let out = out.clone().unwrap_or_else(|| PathBuf::from("results").join(&scenario.config.name));
    let options = RunOptions {
        out,
        timeline: !flags.no_timeline,
        charts: !flags.no_charts,
        progress: !cli.quiet,
        format: flags.format,
    };
    let report = run_to_dir(&scenario, &options)?;
    let s = &report.summary;
    say!(
        "{}: {} events in {:.2} s ({:.1} M events/s simulated, {:.2} s in all); {} instances, {} terminated (p99 latency {} s); results in {}",
        scenario.config.name,
        report.events,
        report.simulation.as_secs_f64(),
        report.events as f64 / report.simulation.as_secs_f64().max(1e-9) / 1e6,
        report.wall.as_secs_f64(),
        s.instances.total,
        s.termination_latency_s.count,
        json_number(s.termination_latency_s.p99),
        report.out.display()
    );
    if s.expect.is_empty() {
        return Ok(Status::Success);
    }
    say!("expectations:");
    for v in &s.expect {
        say!("  {v}");
    }
    Ok(Status::passed_if(s.expect.iter().all(|v| v.passed)))
}

fn serve(
    path: &Option<PathBuf>,
    listen: std::net::SocketAddr,
    speed: f64,
    manual: bool,
    credentials: &Option<PathBuf>,
    out: &Option<PathBuf>,
    flags: RunFlags,
) -> Result<Status, Error> {
    let scenario = load(path)?;
    for w in &scenario.warnings {
        say!("{w}");
    }
    let (scenario_text, scenario_dir) = match path {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| Error::Input(format!("{}: {e}", p.display())))?,
            p.parent().map(Path::to_owned).unwrap_or_default(),
        ),
        None => (scenario::DEFAULT_SCENARIO.to_owned(), PathBuf::from("scenarios")),
    };
    let credentials =
        credentials.as_ref().map(|p| termsim::serve::read_credentials(p).map(|c| (p.clone(), c))).transpose()?;
    let auth = match &credentials {
        Some((p, c)) => format!("signatures checked against {} ({} SecretIds)", p.display(), c.len()),
        None => "no --credentials: any signature is accepted and the SecretId is the account".into(),
    };
    let clock = if manual { termsim::serve::ClockMode::Manual } else { termsim::serve::ClockMode::Speed(speed) };
    let clock_text = if manual { "manual clock (POST /termsim/advance)".to_string() } else { format!("speed {speed}") };
    let name = scenario.config.name.clone();
    let out = out.clone().unwrap_or_else(|| PathBuf::from("results").join(format!("{name}-serve")));
    let options = termsim::serve::ServeOptions {
        scenario,
        scenario_text,
        scenario_dir,
        listen,
        clock,
        credentials: credentials.map(|(_, c)| c),
        out,
        timeline: !flags.no_timeline,
        charts: !flags.no_charts,
        format: flags.format,
        on_listening: Box::new(move |address| {
            out!("listening on http://{address}");
            say!(
                "termsim serve: scenario {name}, {clock_text}; {auth}; stop with POST /termsim/stop, Ctrl-C or SIGTERM"
            );
        }),
    };
    let report = termsim::serve::serve(options)?;
    say!(
        "stopped at {} s of simulated time: {} calls, {} HTTP requests; results in {}",
        report.stopped_at.as_secs_f64(),
        report.calls,
        report.http_requests,
        report.out.display()
    );
    Ok(Status::Success)
}

/// Each file is checked and reported, good or bad, before the next: one bad file does not hide
/// what is wrong with the others.
fn validate(paths: &[PathBuf]) -> Status {
    let mut status = Status::Success;
    for path in paths {
        match scenario::load(path) {
            Ok(s) => {
                for w in &s.warnings {
                    say!("{w}");
                }
                out!("ok: {} ({} task instances)", path.display(), s.config.total_instances());
            }
            Err(e) => {
                report(&e.into());
                status = Status::Rejected;
            }
        }
    }
    status
}

fn run_sweep(
    cli: &Cli,
    path: &Path,
    out: &Option<PathBuf>,
    jobs: Option<usize>,
    shard: Option<&str>,
) -> Result<Status, Error> {
    let shard = shard.map(Shard::parse).transpose().map_err(Error::Input)?;
    if let Some(n @ (0 | 1025..)) = jobs {
        return Err(Error::Input(format!("--jobs {n}: from 1 to 1024 runs at a time")));
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let options = termsim::sweep::SweepOptions { out: out.clone(), jobs, shard, progress: !cli.quiet };
    let report = termsim::sweep::sweep(path, &options)?;
    say!(
        "{} runs in {:.2} s on {} thread{} ({:.2} s inside the runs); results in {}",
        report.runs,
        report.wall.as_secs_f64(),
        report.threads,
        if report.threads == 1 { "" } else { "s" },
        report.run_time.as_secs_f64(),
        report.out.display()
    );
    Ok(Status::Success)
}

fn check(path: &Path, baseline_path: &Path, tolerance: f64, update: bool) -> Result<Status, Error> {
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(Error::Input(format!("--tolerance {tolerance}: a percentage of at least 0")));
    }
    // A results folder, of either format, stands for its summary.json; it is only read: a new
    // summary.json written into it would no longer describe the folder's tables.
    if update && baseline_path.is_dir() {
        return Err(Error::Input(format!(
            "--update --baseline {}: a results folder is a baseline to compare with, not to rewrite; \
             give a summary file to update",
            baseline_path.display()
        )));
    }
    let scenario = scenario::load(path)?;
    let folder_summary = baseline_path.join("summary.json");
    let baseline_path = if baseline_path.is_dir() { folder_summary.as_path() } else { baseline_path };
    let stored = termsim::check::read_baseline(baseline_path, update)?;
    let current = termsim::output::summary_of(&scenario)?.to_value();
    // Without a stored baseline (a first --update) the run is compared with itself: the table
    // still shows every figure that will be stored.
    let figures = termsim::check::compare(stored.as_ref().unwrap_or(&current), &current);
    let (table, failed) = termsim::check::report(&figures, tolerance);
    out!("check {} against {} (latencies may grow by {tolerance} %)", path.display(), baseline_path.display());
    out!("{}", table.trim_end());
    if update {
        termsim::check::write_baseline(baseline_path, &current)?;
        out!("baseline {} updated", baseline_path.display());
        return Ok(Status::Success);
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some() {
        out!("{}", termsim::check::annotations(&figures, tolerance, path).trim_end());
    }
    out!("{} figures: {} failed", figures.len(), failed);
    Ok(Status::passed_if(failed == 0))
}
