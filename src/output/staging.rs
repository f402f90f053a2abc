//! Results are written to a hidden folder beside the target and renamed into place when
//! complete, so an interrupted or failed run never leaves half-written results under the
//! target's name.
//!
//! The hidden folder is `.NAME.tmp-PID`. A run that fails removes it; one that is killed cannot,
//! so the next run for the same target removes the hidden folders of processes that no longer
//! exist (a folder whose process is alive is another run's, and is left alone).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A results folder being written: its files go to a hidden folder beside `target`, which
/// [`StagedDir::commit`] renames into place; dropped without a commit, that folder is removed.
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

/// A folder termsim may replace: absent, empty, or holding a previous run's or sweep's results.
fn replaceable(target: &Path) -> io::Result<bool> {
    if !target.exists() {
        return Ok(true);
    }
    if !target.is_dir() {
        return Ok(false);
    }
    Ok(fs::read_dir(target)?.next().is_none()
        || target.join("summary.json").is_file()
        || target.join("sweep.json").is_file())
}

impl StagedDir {
    /// Starts staging results for `target`; fails when `target` exists and is neither an empty
    /// folder nor a previous run's or sweep's results.
    pub fn create(target: &Path) -> io::Result<Self> {
        if !replaceable(target)? {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("`{}` exists and does not hold termsim results; choose another --out", target.display()),
            ));
        }
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("results");
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent)?;
        remove_abandoned(&parent, name);
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging)?;
        }
        fs::create_dir(&staging)?;
        Ok(StagedDir { target: target.to_owned(), staging, committed: false })
    }

    /// The staging folder: write the results here.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the staged folder into place, replacing a previous run's results.
    pub fn commit(mut self) -> io::Result<PathBuf> {
        if self.target.exists() {
            let old = self.staging.with_extension("old");
            fs::rename(&self.target, &old)?;
            fs::rename(&self.staging, &self.target)?;
            fs::remove_dir_all(&old)?;
        } else {
            fs::rename(&self.staging, &self.target)?;
        }
        self.committed = true;
        Ok(self.target.clone())
    }
}

/// Removes the staging folders (and their `.old` companions) that killed runs left for `name`
/// in `parent`. Best effort: a folder that cannot be read or removed stays.
fn remove_abandoned(parent: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else { continue };
        let Ok(pid) = rest.strip_suffix(".old").unwrap_or(rest).parse::<u32>() else { continue };
        if pid != std::process::id() && !process_exists(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether process `pid` exists (signal 0 checks without sending anything). Where that cannot
/// be asked, every process is taken to exist, so nothing is removed.
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
        // SAFETY: kill with signal 0 sends nothing; it only reports whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        alive || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staging_folder_left_by_a_killed_run_is_removed_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids never reach 999,999,999 (Linux caps them at 2^22); process 1 always runs.
        let dead = dir.path().join(".out.tmp-999999999");
        let dead_old = dir.path().join(".out.tmp-999999999.old");
        let alive = dir.path().join(".out.tmp-1");
        let other = dir.path().join(".other.tmp-999999999");
        for d in [&dead, &dead_old, &alive, &other] {
            fs::create_dir(d).unwrap();
            fs::write(d.join("timeline.csv"), "half").unwrap();
        }
        let staged = StagedDir::create(&dir.path().join("out")).unwrap();
        assert!(!dead.exists() && !dead_old.exists(), "a dead run's folders are removed");
        assert!(alive.exists(), "a live process's folder is left alone");
        assert!(other.exists(), "another target's folder is left alone");
        let out = staged.commit().unwrap();
        assert!(out.is_dir());
    }
}
