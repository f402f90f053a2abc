//! Results are written to a hidden folder beside the target and renamed into place when
//! complete, so an interrupted or failed run never leaves half-written results under the
//! target's name.

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

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}
