//! `deploy/`: the cluster scripts as a user runs them.
//!
//! Kubernetes runs against a stand-in kubectl (`tests/deploy/fake_kubectl.py`) that executes the
//! Jobs `run.sh` applies on this machine, pod script and env included: a real cluster cannot run
//! in CI. Slurm runs for real in `deploy/slurm/test-cluster.sh` (root, from `.ci/run`); what
//! needs no cluster, the refusals of bad arguments, is checked here.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
mod venv;
use common::assert_same_tree;

const SWEEP: &str = "scenarios/sweeps/rate-limit-vs-strategy.json";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A machine with the stand-in kubectl and a `termsim` that fails shard 2 of 4 while the file
/// `fail-shard-2` exists (as a crashed node would), both first on PATH.
struct Cluster {
    dir: tempfile::TempDir,
}

impl Cluster {
    fn new() -> Cluster {
        let python = venv::python("deploy", &["PyYAML==6.0.2"]);
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        fs::create_dir_all(dir.path().join("state")).unwrap();
        fs::create_dir_all(&bin).unwrap();
        let kubectl = format!(
            "#!/bin/sh\nexec '{}' '{}' \"$@\"\n",
            python.display(),
            repo().join("tests/deploy/fake_kubectl.py").display()
        );
        let termsim = format!(
            "#!/bin/sh\ncase \" $* \" in *\" --shard 2/4 \"*) if [ -e '{}' ]; then echo 'injected failure' >&2; exit 1; fi ;; esac\nexec '{}' \"$@\"\n",
            dir.path().join("fail-shard-2").display(),
            env!("CARGO_BIN_EXE_termsim")
        );
        for (name, script) in [("kubectl", kubectl), ("termsim", termsim)] {
            fs::write(bin.join(name), script).unwrap();
            fs::set_permissions(bin.join(name), fs::Permissions::from_mode(0o755)).unwrap();
        }
        Cluster { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run_sh(&self, args: &[&str]) -> Output {
        let path = format!("{}:{}", self.path("bin").display(), std::env::var("PATH").unwrap());
        Command::new("bash")
            .arg(repo().join("deploy/kubernetes/run.sh"))
            .args(args)
            .current_dir(repo())
            .env("PATH", path)
            .env("FAKE_KUBE_STATE", self.path("state"))
            .env("IMAGE", "registry.test/termsim:1")
            .output()
            .expect("bash runs")
    }

    fn results(&self, p: &str) -> PathBuf {
        self.path("state/results").join(p)
    }

    /// The manifests as the stand-in received them, in order.
    fn calls(&self) -> String {
        fs::read_to_string(self.path("state/calls.log")).unwrap_or_default()
    }
}

fn whole_sweep(dir: &Path) -> PathBuf {
    let whole = dir.join("whole");
    let o = Command::new(env!("CARGO_BIN_EXE_termsim"))
        .args(["sweep", SWEEP, "--out", whole.to_str().unwrap(), "-q"])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    whole
}

#[test]
fn kubernetes_n_shards_then_fewer_merge_to_the_unsharded_sweep() {
    let cluster = Cluster::new();
    let whole = whole_sweep(cluster.dir.path());
    // N = 4 leaves shard-4 on the volume; the N = 3 run that follows must not merge it.
    for n in ["4", "3"] {
        let local = cluster.path(&format!("local-{n}"));
        let o = cluster.run_sh(&[SWEEP, n, "--cpus", "2", "--copy-to", local.to_str().unwrap()]);
        assert!(o.status.success(), "run.sh N={n}:\n{}", text(&o));
        assert_same_tree(&whole, &local);
        let job = fs::read_to_string(cluster.path("state/jobs/termsim-sweep.json")).unwrap();
        assert!(job.contains("registry.test/termsim:1"), "IMAGE was not put into the manifest: {job}");
        // Each pod ran with --jobs equal to the CPUs requested.
        assert!(job.contains("(2 CPUs)"), "{job}");
    }
    assert!(!cluster.results("shard-4").exists(), "the N = 3 run kept shard-4 of the N = 4 run");
}

#[test]
fn kubernetes_a_failed_shard_stops_the_merge_and_rerunning_it_alone_completes_the_study() {
    let cluster = Cluster::new();
    let whole = whole_sweep(cluster.dir.path());
    fs::write(cluster.path("fail-shard-2"), "").unwrap();
    let local = cluster.path("local");
    let o = cluster.run_sh(&[SWEEP, "4", "--copy-to", local.to_str().unwrap()]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("injected failure"), "the failed pod's log is not shown:\n{out}");
    // The other shards ran to the end (retries per index), and run.sh names the one to re-run.
    assert!(out.contains("shards that failed: 2;"), "{out}");
    assert!(out.contains(&format!("{SWEEP} 4 --rerun 2\n")), "no re-run command in:\n{out}");
    assert!(!cluster.path("state/jobs/termsim-merge.json").exists(), "a merge was applied after a failed shard");
    assert!(!cluster.results("merged").exists() && !local.exists());
    assert!(!cluster.results("shard-2").exists());
    for k in [1, 3, 4] {
        assert!(cluster.results(&format!("shard-{k}")).is_dir(), "shard-{k}");
    }

    fs::remove_file(cluster.path("fail-shard-2")).unwrap();
    // A complete shard is never run again: the pod refuses, the job fails, nothing merges.
    let o = cluster.run_sh(&[SWEEP, "4", "--rerun", "3"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("shard-3 is complete"), "{}", text(&o));

    let o = cluster.run_sh(&[SWEEP, "4", "--rerun", "2", "--copy-to", local.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_same_tree(&whole, &local);
    let job = fs::read_to_string(cluster.path("state/jobs/termsim-sweep.json")).unwrap();
    assert_eq!(job.matches("\"exit\": 0").count(), 1, "a re-run of one shard runs one pod: {job}");
}

#[test]
fn kubernetes_and_slurm_refuse_a_study_without_its_shard_count() {
    let cluster = Cluster::new();
    for args in
        [&[SWEEP][..], &[SWEEP, "0"], &[SWEEP, "three"], &[SWEEP, "3", "--rerun", "5"], &[SWEEP, "3", "--bogus"]]
    {
        let o = cluster.run_sh(args);
        assert_eq!(o.status.code(), Some(2), "run.sh {args:?}: {}", text(&o));
        let o = Command::new("bash")
            .arg(repo().join("deploy/slurm/submit.sh"))
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "submit.sh {args:?}: {}", text(&o));
    }
    assert!(cluster.calls().is_empty(), "kubectl was called for a refused study:\n{}", cluster.calls());
}

#[test]
fn slurm_batch_scripts_refuse_to_run_without_their_arguments() {
    // As Slurm would start them: an array task, but no arguments, or a task beyond N.
    let script = |name: &str, args: &[&str], task: &str| {
        Command::new("bash")
            .arg(repo().join("deploy/slurm").join(name))
            .args(args)
            .env("SLURM_ARRAY_TASK_ID", task)
            .env("TERMSIM", env!("CARGO_BIN_EXE_termsim"))
            .output()
            .unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let shards = dir.path().join("shards");
    let shards = shards.to_str().unwrap();
    let sweep = repo().join(SWEEP);
    let sweep = sweep.to_str().unwrap();
    for (name, args, task) in [
        ("sweep.sbatch", &[][..], "1"),
        ("sweep.sbatch", &[sweep, shards], "1"),
        ("sweep.sbatch", &[sweep, shards, "3"], "4"),
        ("merge.sbatch", &[shards, "3"], "1"),
        ("merge.sbatch", &[shards, "3", "out"], "1"),
    ] {
        let o = script(name, args, task);
        assert_eq!(o.status.code(), Some(2), "{name} {args:?}: {}", text(&o));
    }
    assert!(!Path::new(shards).join("shard-1").exists());
    // Task 2 with N = 3 is shard 2 of 3, whatever the array's size.
    let o = script("sweep.sbatch", &[sweep, shards, "3"], "2");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("shard 2/3"), "{}", text(&o));
    let o = script("merge.sbatch", &[shards, "3", "out"], "1");
    assert!(text(&o).contains("no shard-1,3 of 3"), "{}", text(&o));
}
