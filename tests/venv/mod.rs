//! Python packages for the tests that drive outside tools (a YAML parser for the Kubernetes
//! stand-in; later the Tencent Cloud SDKs, pyarrow, DuckDB): one venv per requirement set, made
//! under `target/py-venv/` on first use and reused after. A test that cannot get its packages
//! fails with pip's own message; it never skips.
//!
//! A folder module, included with `mod venv;`, so cargo does not build it as a test of its own.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Tests of one binary run in parallel threads: one of them builds a venv, the others wait.
static BUILDING: Mutex<()> = Mutex::new(());

/// The `python` of a venv holding exactly `requirements` (pinned `name==version` lines),
/// named `name` under the target folder.
pub fn python(name: &str, requirements: &[&str]) -> PathBuf {
    let _guard = BUILDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("py-venv").join(name);
    let python = dir.join("bin").join("python");
    let wanted = requirements.join("\n") + "\n";
    // Written last, so a venv whose install was interrupted is made again.
    let stamp = dir.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&dir);
    run(Command::new("python3").args(["-m", "venv"]).arg(&dir), "python3 -m venv");
    let requirements_file = dir.join("requirements.txt");
    std::fs::write(&requirements_file, &wanted).expect("write requirements.txt");
    run(
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements_file),
        "pip install",
    );
    std::fs::write(&stamp, &wanted).expect("write the venv's stamp");
    python
}

fn run(command: &mut Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
