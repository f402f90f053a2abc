//! Errors in scenario input: where they are (file, line and column, JSON path) and how they are
//! shown.

use std::fmt;
use std::path::{Path, PathBuf};

/// A step of a JSON path: an object key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// Where a value sits in a scenario: `jobs[0].tasks[1].depends_on[0]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonPath(pub Vec<Seg>);

impl JsonPath {
    /// The empty path: the top level of the file.
    pub fn root() -> Self {
        JsonPath(Vec::new())
    }

    /// This path followed by an object key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_owned()));
        p
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// A path in the `serde_path_to_error` notation (the same as ours), e.g. `jobs[0].id`.
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        for part in text.split('.').filter(|p| !p.is_empty() && *p != "?") {
            let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            if !key.is_empty() {
                segs.push(Seg::Key(key.to_owned()));
            }
            for idx in rest.split('[') {
                if let Ok(i) = idx.trim_end_matches(']').parse() {
                    segs.push(Seg::Index(i));
                }
            }
        }
        JsonPath(segs)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if n == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Bad input: a file that cannot be read, parsed or accepted. Displayed as
/// `FILE:LINE:COLUMN: PATH: MESSAGE`, the form editors and CI logs link to.
#[derive(Clone, Debug, thiserror::Error)]
pub struct InputError {
    /// The file at fault: the scenario, or a file it names (a trace or an empirical CSV).
    pub file: PathBuf,
    /// 1-based line and column, where there is one.
    pub position: Option<(usize, usize)>,
    /// The field's JSON path, where there is one.
    pub path: Option<JsonPath>,
    /// What is wrong, without the position or the path.
    pub message: String,
}

impl InputError {
    /// An error about `file` as a whole: no position, no path.
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        InputError { file: file.to_owned(), position: None, path: None, message: message.into() }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if let Some(path) = &self.path {
            write!(f, ": {path}")?;
        }
        write!(f, ": {}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip_through_the_serde_notation() {
        let p = JsonPath::root().key("jobs").index(0).key("tasks").index(12).key("depends_on").index(1);
        assert_eq!(p.to_string(), "jobs[0].tasks[12].depends_on[1]");
        assert_eq!(JsonPath::parse(&p.to_string()), p);
    }
}
