//! `termsim merge` on two shard folders made of arbitrary bytes: merged into a temporary output
//! or refused with an error naming the file, never a panic.
//!
//! Input framing: the first byte's bit 0 says whether the merged results are written; the rest
//! is split on `SEPARATOR` into shard 1's `sweep.json` and `sweep.csv`, then shard 2's (a
//! missing part is an empty file). An empty `sweep.json` for shard 2 is a copy of shard 1's, so
//! that mutations reach past the check that both are of one sweep.
//!
//! Writing draws a PNG and an SVG chart per metric, about half a second each under the fuzzer's
//! instrumentation, against a millisecond for reading the shards. Without bit 0 the output path
//! is a file, which `merge` refuses only once the shards are read and checked: most inputs
//! explore the reading fast, and the fuzzer still reaches the writing.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const SEPARATOR: &[u8] = b"--8<--\n";

fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("termsim-fuzz-merge-{}", std::process::id()));
        for shard in ["a", "b"] {
            std::fs::create_dir_all(dir.join(shard)).expect("a temporary folder");
        }
        std::fs::write(dir.join("not-a-folder"), "").expect("a file in the way of the output");
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
    let Some((&flags, data)) = data.split_first() else { return };
    let dir = folder();
    let parts = split(data, SEPARATOR);
    let part = |i: usize| parts.get(i).copied().unwrap_or_default();
    let second_json = if part(2).is_empty() { part(0) } else { part(2) };
    let write = |shard: &str, name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(shard).join(name), bytes).expect("write a shard file");
    };
    write("a", "sweep.json", part(0));
    write("a", "sweep.csv", part(1));
    write("b", "sweep.json", second_json);
    write("b", "sweep.csv", part(3));
    let shards = [dir.join("a"), dir.join("b")];
    if flags & 1 == 0 {
        let _ = termsim::sweep::merge(&shards, &dir.join("not-a-folder"));
        return;
    }
    let out = dir.join("merged");
    let _ = termsim::sweep::merge(&shards, &out);
    if out.exists() {
        std::fs::remove_dir_all(&out).expect("remove the merged output");
    }
});
