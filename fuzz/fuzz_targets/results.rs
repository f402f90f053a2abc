//! A run's results folder as `termsim plot` reads it, from arbitrary bytes: the folder is read
//! back into the charts' aggregates and, when it reads, the charts are drawn. A bad folder is
//! refused with an error naming the file, never a panic.
//!
//! Input framing: the first byte's bits 0 to 5 say which of the six files exist, in the order of
//! `FILES`, and bit 7 whether the charts are drawn (`plot`) or the folder only read
//! (`read_results`); the rest is split on `SEPARATOR`, the parts going to the present files in
//! that order (a file without a part is empty, parts past the last file are ignored).
//!
//! Drawing is where a folder's values become axes, bins and coordinates, but it costs about a
//! second under the fuzzer's instrumentation (every pixel of seven charts, PNG-encoded), against
//! a millisecond for reading: the fuzzer chooses, so that most inputs explore the reader fast.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const FILES: [&str; 6] =
    ["summary.json", "instances.csv", "timeline.csv", "requests.csv", "occupancy.csv", "cancellations.csv"];
const SEPARATOR: &[u8] = b"--8<--\n";

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("termsim-fuzz-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        dir
    })
}

fn split<'a>(mut data: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = data.windows(separator.len()).position(|w| w == separator) {
        parts.push(&data[..at]);
        data = &data[at + separator.len()..];
    }
    parts.push(data);
    parts
}

fuzz_target!(|data: &[u8]| {
    let Some((&present, rest)) = data.split_first() else { return };
    let dir = folder();
    let mut parts = split(rest, SEPARATOR).into_iter();
    for (i, name) in FILES.iter().enumerate() {
        let path = dir.join(name);
        if present & (1 << i) != 0 {
            std::fs::write(&path, parts.next().unwrap_or_default()).expect("write a results file");
        } else if path.exists() {
            std::fs::remove_file(&path).expect("remove a results file");
        }
    }
    if present & 0x80 != 0 {
        let _ = termsim::output::plot::plot(dir);
    } else {
        let _ = termsim::output::plot::read_results(dir);
    }
});
