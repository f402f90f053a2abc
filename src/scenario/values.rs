//! The value types of a scenario file that are more than a JSON scalar: durations,
//! distributions, probabilities and index lists. Each checks its own form and range while it is
//! parsed, so that its errors carry serde_json's line and column and the field's path.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::engine::SimTime;

/// The longest duration a scenario may name: ten years.
pub const MAX_DURATION_SECONDS: u64 = 10 * 365 * 24 * 3600;

/// A duration: a string such as `"250ms"`, `"90s"`, `"1m 30s"`, `"2h"` (humantime's units), or a
/// number of seconds. Rounded to the microsecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub SimTime);

/// Written back as a number of seconds, which reads back to the same microsecond.
impl Serialize for DurationValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0.as_secs_f64())
    }
}

fn seconds_to_time<E: de::Error>(secs: f64) -> Result<SimTime, E> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(E::custom(format!("a duration must not be negative (got {secs})")));
    }
    if secs > MAX_DURATION_SECONDS as f64 {
        return Err(E::custom(format!("a duration may be at most {MAX_DURATION_SECONDS} s (ten years), got {secs}")));
    }
    Ok(SimTime((secs * 1e6).round() as u64))
}

/// A number of seconds, such as `12.5` (a trace's `at_s`), rounded to the microsecond.
pub fn parse_seconds(text: &str) -> Result<SimTime, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs < 0.0 => Err(format!("a time must not be negative, got {text}")),
        Ok(secs) if secs.is_finite() => seconds_to_time::<de::value::Error>(secs).map_err(|e| e.to_string()),
        _ => Err(format!("`{text}` is not a number of seconds, such as 12.5")),
    }
}

/// A duration as a scenario writes it: a string such as `"90s"` (humantime's units) or a number of
/// seconds, rounded to the microsecond; never negative, at most [`MAX_DURATION_SECONDS`].
pub fn parse_duration(text: &str) -> Result<SimTime, String> {
    let trimmed = text.trim();
    if let Ok(secs) = trimmed.parse::<f64>() {
        return seconds_to_time::<de::value::Error>(secs).map_err(|e| e.to_string());
    }
    if trimmed.starts_with('-') {
        return Err(format!("a duration must not be negative (got `{text}`)"));
    }
    let d = humantime::parse_duration(trimmed).map_err(|e| {
        format!("`{text}` is not a duration ({e}); write e.g. \"250ms\", \"90s\", \"1m 30s\" or a number of seconds")
    })?;
    if d.as_secs() > MAX_DURATION_SECONDS {
        return Err(format!("a duration may be at most ten years, got `{text}`"));
    }
    Ok(SimTime((d.as_nanos() as f64 / 1000.0).round() as u64))
}

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DurationVisitor).map(DurationValue)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = SimTime;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration: a string such as \"90s\" or a number of seconds")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SimTime, E> {
        parse_duration(v).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SimTime, E> {
        seconds_to_time(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SimTime, E> {
        seconds_to_time(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SimTime, E> {
        seconds_to_time(v)
    }
}

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a string such as \"250ms\", \"90s\", \"1m 30s\", \"2h\", or a number of seconds.",
            "oneOf": [
                { "type": "string", "examples": ["250ms", "90s", "1m 30s", "2h"] },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

/// A probability in `[0, 1]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if (0.0..=1.0).contains(&v) {
            Ok(Probability(v))
        } else {
            Err(de::Error::custom(format!("a probability must be between 0 and 1, got {v}")))
        }
    }
}

impl JsonSchema for Probability {
    fn schema_name() -> Cow<'static, str> {
        "Probability".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "minimum": 0, "maximum": 1 })
    }
}

/// A distribution of durations, as written in a file. CSV-backed empirical distributions are read
/// when the scenario is built (their path is relative to the scenario file).
#[derive(Clone, Debug, PartialEq)]
pub enum DistributionSpec {
    /// Always the same duration: `"90s"`.
    Constant(DurationValue),
    /// `{"uniform": {"min", "max"}}`: uniform between `min` and `max`, both included.
    Uniform {
        /// The shortest draw.
        min: DurationValue,
        /// The longest draw; at least `min`.
        max: DurationValue,
    },
    /// `{"exponential": {"mean"}}`: exponential with a positive `mean`.
    Exponential {
        /// The mean; positive.
        mean: DurationValue,
    },
    /// `{"normal": {"mean", "std"}}`: normal, negative draws clamped at 0.
    Normal {
        /// The mean.
        mean: DurationValue,
        /// The standard deviation; `"0s"` makes it a constant.
        std: DurationValue,
    },
    /// `{"lognormal": {"median", "sigma"}}`: lognormal with a positive `median`.
    Lognormal {
        /// The median; positive.
        median: DurationValue,
        /// The standard deviation of the duration's logarithm, from 0 to 10; 0 makes it a constant.
        sigma: f64,
    },
    /// `{"empirical": …}`: a uniform pick among given durations.
    Empirical(EmpiricalSpec),
}

/// An empirical distribution's durations: either `values`, or both `csv` and `column`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmpiricalSpec {
    /// The durations, inline: 1 to [`MAX_EMPIRICAL_VALUES`] of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<DurationValue>>,
    /// A CSV file of durations, relative to the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
    /// The column of `csv` that holds the durations, named by its header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl Serialize for DistributionSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde_json::json;
        let v = match self {
            DistributionSpec::Constant(d) => return d.serialize(s),
            DistributionSpec::Uniform { min, max } => json!({ "uniform": { "min": min, "max": max } }),
            DistributionSpec::Exponential { mean } => json!({ "exponential": { "mean": mean } }),
            DistributionSpec::Normal { mean, std } => json!({ "normal": { "mean": mean, "std": std } }),
            DistributionSpec::Lognormal { median, sigma } => {
                json!({ "lognormal": { "median": median, "sigma": sigma } })
            }
            DistributionSpec::Empirical(e) => json!({ "empirical": e }),
        };
        v.serialize(s)
    }
}

impl DistributionSpec {
    /// A constant distribution.
    pub fn constant(t: SimTime) -> Self {
        DistributionSpec::Constant(DurationValue(t))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UniformSpec {
    min: DurationValue,
    max: DurationValue,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExponentialSpec {
    mean: DurationValue,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormalSpec {
    mean: DurationValue,
    std: DurationValue,
}
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LognormalSpec {
    median: DurationValue,
    sigma: f64,
}

const KINDS: &[&str] = &["uniform", "exponential", "normal", "lognormal", "empirical"];

impl<'de> Deserialize<'de> for DistributionSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DistributionVisitor)
    }
}

struct DistributionVisitor;

impl<'de> Visitor<'de> for DistributionVisitor {
    type Value = DistributionSpec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a duration, or an object with one of the keys uniform, exponential, normal, lognormal, empirical")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        DurationVisitor.visit_str(v).map(DistributionSpec::constant)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        DurationVisitor.visit_u64(v).map(DistributionSpec::constant)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        DurationVisitor.visit_i64(v).map(DistributionSpec::constant)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        DurationVisitor.visit_f64(v).map(DistributionSpec::constant)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some(kind) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "a distribution object needs one key: uniform, exponential, normal, lognormal or empirical",
            ));
        };
        let spec = match kind.as_str() {
            "uniform" => {
                let u: UniformSpec = map.next_value()?;
                if u.min.0 > u.max.0 {
                    return Err(de::Error::custom("uniform: `min` is greater than `max`"));
                }
                DistributionSpec::Uniform { min: u.min, max: u.max }
            }
            "exponential" => {
                let e: ExponentialSpec = map.next_value()?;
                if e.mean.0 == SimTime::ZERO {
                    return Err(de::Error::custom(
                        "exponential: `mean` must be positive (use a constant \"0s\" for no delay)",
                    ));
                }
                DistributionSpec::Exponential { mean: e.mean }
            }
            "normal" => {
                let n: NormalSpec = map.next_value()?;
                DistributionSpec::Normal { mean: n.mean, std: n.std }
            }
            "lognormal" => {
                let l: LognormalSpec = map.next_value()?;
                if l.median.0 == SimTime::ZERO {
                    return Err(de::Error::custom("lognormal: `median` must be positive"));
                }
                if !(0.0..=10.0).contains(&l.sigma) {
                    return Err(de::Error::custom(format!(
                        "lognormal: `sigma` must be between 0 and 10, got {}",
                        l.sigma
                    )));
                }
                DistributionSpec::Lognormal { median: l.median, sigma: l.sigma }
            }
            "empirical" => {
                let e: EmpiricalSpec = map.next_value()?;
                match (&e.values, &e.csv, &e.column) {
                    (Some(v), None, None) if v.is_empty() => {
                        return Err(de::Error::custom("empirical: `values` must not be empty"));
                    }
                    (Some(v), None, None) if v.len() > MAX_EMPIRICAL_VALUES => {
                        return Err(de::Error::custom(format!("empirical: at most {MAX_EMPIRICAL_VALUES} values")));
                    }
                    (Some(_), None, None) | (None, Some(_), Some(_)) => {}
                    _ => {
                        return Err(de::Error::custom(
                            "empirical: give either `values` (a list of durations) or both `csv` and `column`",
                        ));
                    }
                }
                DistributionSpec::Empirical(e)
            }
            other => return Err(de::Error::unknown_variant(other, KINDS)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "a distribution object has exactly one key; `{extra}` is one too many"
            )));
        }
        Ok(spec)
    }
}

/// The most values an empirical distribution may hold (inline or from a CSV file).
pub const MAX_EMPIRICAL_VALUES: usize = 1_000_000;

impl JsonSchema for DistributionSpec {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let duration = g.subschema_for::<DurationValue>();
        json_schema!({
            "description": "A distribution of durations: a duration (constant) or an object with exactly one key.",
            "oneOf": [
                duration,
                { "type": "object", "additionalProperties": false, "required": ["uniform"],
                  "properties": { "uniform": { "type": "object", "additionalProperties": false, "required": ["min", "max"],
                    "properties": { "min": duration, "max": duration } } } },
                { "type": "object", "additionalProperties": false, "required": ["exponential"],
                  "properties": { "exponential": { "type": "object", "additionalProperties": false, "required": ["mean"],
                    "properties": { "mean": duration } } } },
                { "type": "object", "additionalProperties": false, "required": ["normal"],
                  "properties": { "normal": { "type": "object", "additionalProperties": false, "required": ["mean", "std"],
                    "properties": { "mean": duration, "std": duration } } } },
                { "type": "object", "additionalProperties": false, "required": ["lognormal"],
                  "properties": { "lognormal": { "type": "object", "additionalProperties": false, "required": ["median", "sigma"],
                    "properties": { "median": duration, "sigma": { "type": "number", "minimum": 0, "maximum": 10 } } } } },
                { "type": "object", "additionalProperties": false, "required": ["empirical"],
                  "properties": { "empirical": { "type": "object", "additionalProperties": false,
                    "properties": { "values": { "type": "array", "items": duration, "minItems": 1 },
                                    "csv": { "type": "string" }, "column": { "type": "string" } } } } }
            ]
        })
    }
}

/// Task instance indices a client names: `"all"`, a list, or `{"from", "to"}` (inclusive).
#[derive(Clone, Debug, PartialEq)]
pub enum IndicesSpec {
    /// `"all"`: every index of the task.
    All,
    /// The indices listed, in that order.
    List(Vec<i64>),
    /// `{"from", "to"}`: every index from `from` to `to`, both included.
    Range {
        /// The first index.
        from: i64,
        /// The last index, included; at least `from`.
        to: i64,
    },
}

impl Serialize for IndicesSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IndicesSpec::All => s.serialize_str("all"),
            IndicesSpec::List(v) => v.serialize(s),
            IndicesSpec::Range { from, to } => serde_json::json!({ "from": from, "to": to }).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for IndicesSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IndicesVisitor)
    }
}

struct IndicesVisitor;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RangeSpec {
    from: i64,
    to: i64,
}

impl<'de> Visitor<'de> for IndicesVisitor {
    type Value = IndicesSpec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("\"all\", a list of indices, or {\"from\": N, \"to\": M}")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v == "all" { Ok(IndicesSpec::All) } else { Err(E::invalid_value(de::Unexpected::Str(v), &self)) }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list = Vec::new();
        while let Some(i) = seq.next_element::<i64>()? {
            if list.len() == super::limits::MAX_INSTANCES as usize {
                return Err(de::Error::custom("too many indices"));
            }
            list.push(i);
        }
        Ok(IndicesSpec::List(list))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let r = RangeSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
        if r.from > r.to {
            return Err(de::Error::custom(format!("`from` ({}) is greater than `to` ({})", r.from, r.to)));
        }
        if i128::from(r.to) - i128::from(r.from) >= i128::from(super::limits::MAX_INSTANCES) {
            return Err(de::Error::custom("the range names more indices than a scenario may hold"));
        }
        Ok(IndicesSpec::Range { from: r.from, to: r.to })
    }
}

impl JsonSchema for IndicesSpec {
    fn schema_name() -> Cow<'static, str> {
        "Indices".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"all\", a list of indices, or {\"from\": N, \"to\": M} (inclusive).",
            "oneOf": [
                { "const": "all" },
                { "type": "array", "items": { "type": "integer" } },
                { "type": "object", "additionalProperties": false, "required": ["from", "to"],
                  "properties": { "from": { "type": "integer" }, "to": { "type": "integer" } } }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse<T: for<'de> Deserialize<'de>>(json: &str) -> Result<T, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn durations_in_every_documented_form() {
        let d = |j: &str| parse::<DurationValue>(j).map(|d| d.0.micros());
        assert_eq!(d("\"250ms\""), Ok(250_000));
        assert_eq!(d("\"1m 30s\""), Ok(90_000_000));
        assert_eq!(d("\"2h\""), Ok(7_200_000_000));
        assert_eq!(d("1.5"), Ok(1_500_000));
        assert_eq!(d("90"), Ok(90_000_000));
        assert!(d("-1").unwrap_err().contains("negative"));
        assert!(d("\"soon\"").unwrap_err().contains("not a duration"));
    }

    #[test]
    fn distributions_check_their_parameters() {
        assert!(matches!(parse::<DistributionSpec>("\"5s\""), Ok(DistributionSpec::Constant(_))));
        assert!(
            parse::<DistributionSpec>(r#"{"uniform": {"min": "5s", "max": "1s"}}"#).unwrap_err().contains("greater")
        );
        assert!(parse::<DistributionSpec>(r#"{"gamma": {"k": 1}}"#).unwrap_err().contains("unknown variant"));
        assert!(
            parse::<DistributionSpec>(r#"{"uniform": {"min": "1s", "max": "2s"}, "normal": {}}"#)
                .unwrap_err()
                .contains("one key")
        );
        assert!(parse::<DistributionSpec>(r#"{"empirical": {"values": []}}"#).unwrap_err().contains("empty"));
        assert!(parse::<DistributionSpec>(r#"{"lognormal": {"median": "90s", "sigma": 0.25}}"#).is_ok());
    }

    #[test]
    fn indices_forms() {
        assert_eq!(parse::<IndicesSpec>("\"all\""), Ok(IndicesSpec::All));
        assert_eq!(parse::<IndicesSpec>("[3, 1]"), Ok(IndicesSpec::List(vec![3, 1])));
        assert_eq!(parse::<IndicesSpec>(r#"{"from": 0, "to": 99}"#), Ok(IndicesSpec::Range { from: 0, to: 99 }));
        assert!(parse::<IndicesSpec>(r#"{"from": 9, "to": 1}"#).is_err());
    }
}
