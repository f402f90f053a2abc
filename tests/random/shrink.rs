//! A generic shrinker over a case's JSON: it drops list items and optional fields, lowers
//! numbers and turns distributions into constants, keeping each step that still fails, until no
//! step does. Candidates that termsim refuses as input simply do not fail the same rule.

use std::path::Path;

use serde_json::Value;

/// A path into a JSON value: keys and indices.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at_mut<'v>(v: &'v mut Value, path: &[Step]) -> &'v mut Value {
    path.iter().fold(v, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// Fields a scenario cannot do without: the shrinker leaves them (dropping them only makes
/// candidates termsim refuses).
const REQUIRED: &[&str] = &[
    "name",
    "jobs",
    "id",
    "tasks",
    "instances",
    "runtime",
    "type",
    "csv",
    "column",
    "nodes",
    "min",
    "max",
    "mean",
    "median",
    "sigma",
    "std",
    "values",
    "__rows",
    "__values",
];

fn candidates(root: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut paths: Vec<(Vec<Step>, Value)> = Vec::new();
    collect(root, &mut Vec::new(), &mut paths);
    for (path, value) in &paths {
        let (parent_path, last) = path.split_at(path.len().saturating_sub(1));
        // Drop a list item or an optional field.
        if let Some(last) = last.first() {
            let mut c = root.clone();
            let parent = at_mut(&mut c, parent_path);
            let dropped = match (last, parent) {
                (Step::Index(i), Value::Array(items)) if items.len() > 1 || !parent_path.is_empty() => {
                    items.remove(*i);
                    true
                }
                (Step::Key(k), Value::Object(map)) if !REQUIRED.contains(&k.as_str()) => map.remove(k).is_some(),
                _ => false,
            };
            if dropped {
                out.push(c);
            }
        }
        match value {
            // Lower a number: to 0, 1, then half.
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    for lower in [0.0, 1.0, (x / 2.0).floor()] {
                        if lower < x {
                            let mut c = root.clone();
                            *at_mut(&mut c, path) =
                                if n.is_u64() { Value::from(lower as u64) } else { Value::from(lower) };
                            out.push(c);
                        }
                    }
                }
            }
            // A distribution becomes a constant ("1s" or "0s").
            Value::Object(map)
                if map.len() == 1
                    && ["uniform", "exponential", "normal", "lognormal", "empirical"]
                        .contains(&map.keys().next().unwrap().as_str()) =>
            {
                for constant in ["0s", "1s"] {
                    let mut c = root.clone();
                    *at_mut(&mut c, path) = Value::from(constant);
                    out.push(c);
                }
            }
            // A duration string with units becomes a shorter one.
            Value::String(s)
                if s.ends_with('s') && s.chars().next().is_some_and(|c| c.is_ascii_digit()) && s != "0s" =>
            {
                let mut c = root.clone();
                *at_mut(&mut c, path) = Value::from("0s");
                out.push(c);
            }
            _ => {}
        }
    }
    out
}

fn collect(v: &Value, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                path.push(Step::Key(k.clone()));
                out.push((path.clone(), child.clone()));
                collect(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Step::Index(i));
                out.push((path.clone(), child.clone()));
                collect(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The smallest case reachable by single steps that all still `fails`, within a budget of
/// attempts. `scratch` is a folder for the attempts' runs.
pub fn shrink(case: &Value, fails: &dyn Fn(&Value, &Path) -> bool, scratch: &Path) -> Value {
    let mut best = case.clone();
    let mut attempts = 0;
    'outer: loop {
        for candidate in candidates(&best) {
            attempts += 1;
            if attempts > 3_000 {
                break 'outer;
            }
            let work = scratch.join(format!("attempt-{attempts}"));
            std::fs::create_dir_all(&work).unwrap();
            let still = fails(&candidate, &work);
            let _ = std::fs::remove_dir_all(&work);
            if still {
                best = candidate;
                continue 'outer;
            }
        }
        break;
    }
    best
}
