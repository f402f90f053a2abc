//! `termsim check`'s baseline on arbitrary bytes: read and validated as a stored `summary.json`,
//! refused with an error naming the file, or compared with a real run's summary (both ways,
//! and with itself) and reported, never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A real run's summary: the default scenario's baseline.
const CURRENT: &str = include_str!("../../results/baselines/default.json");

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("termsim-fuzz-check-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let path = folder().join("summary.json");
    std::fs::write(&path, data).expect("write the baseline");
    let Ok(Some(baseline)) = termsim::check::read_baseline(&path, false) else { return };
    let current: Value = serde_json::from_str(CURRENT).expect("the committed baseline is JSON");
    for (a, b) in [(&baseline, &current), (&current, &baseline), (&baseline, &baseline)] {
        let figures = termsim::check::compare(a, b);
        let _ = termsim::check::report(&figures, 5.0);
        let _ = termsim::check::annotations(&figures, 5.0, &path);
    }
});
