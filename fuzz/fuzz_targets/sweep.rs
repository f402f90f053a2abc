//! Sweep files on arbitrary text: loaded against a fixed base scenario, accepted or refused with
//! a located error, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"{ "name": "base", "horizon": "2h",
  "jobs": [ { "id": "job-aaaaaaaa", "tasks": [ { "name": "A", "instances": 4, "runtime": "10m" } ] } ],
  "clients": [ { "type": "terminate_job", "at": "100s", "job": "job-aaaaaaaa" } ] }"#;

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("termsim-fuzz-sweep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        std::fs::write(dir.join("base.json"), BASE).expect("write the base scenario");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = folder();
    std::fs::write(dir.join("sweep.json"), data).expect("write the sweep");
    let _ = termsim::sweep::spec::load(&dir.join("sweep.json"));
});
