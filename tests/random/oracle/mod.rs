//! The oracle: rules from SPEC and the README that every run's outputs must keep, checked on
//! the files alone. Each module owns one part of the contract; each violation starts with its
//! rule's tag in brackets.

mod capacity;
mod requests;
mod timeline;

use super::Violation;
use super::outputs::Outputs;
use super::spec::Spec;

pub fn check(spec: &Spec, out: &Outputs) -> Vec<Violation> {
    let mut violations = Vec::new();
    violations.extend(timeline::check(spec, out));
    violations.extend(capacity::check(spec, out));
    violations.extend(requests::check(spec, out));
    violations
}
