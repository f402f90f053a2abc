//! JSON Pointers (RFC 6901) into a scenario: which ones the scenario format defines, and setting
//! one in a scenario that may not have the field yet.
//!
//! SPEC §5 allows a pointer to any field the format defines, whether or not the base sets it.
//! Most fields exist once the base's defaults are filled in; those inside an optional object the
//! base leaves out (a client's `retry`) do not, so the format is asked instead: its JSON Schema
//! (`termsim schema`) is walked along the pointer.

use serde_json::{Map, Value};

/// The pointer's reference tokens, unescaped (`~1` is `/`, `~0` is `~`).
pub(super) fn tokens(pointer: &str) -> Option<Vec<String>> {
    let rest = pointer.strip_prefix('/')?;
    Some(rest.split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect())
}

fn resolve<'s>(root: &'s Value, node: &'s Value) -> &'s Value {
    match node.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => root.get("$defs").and_then(|d| d.get(name)).map_or(node, |n| resolve(root, n)),
        None => node,
    }
}

/// Whether the schema `root` defines the field at `tokens` below `node`.
fn defines(root: &Value, node: &Value, tokens: &[String]) -> bool {
    let node = resolve(root, node);
    let Some((first, rest)) = tokens.split_first() else { return true };
    let branches = ["anyOf", "oneOf", "allOf"].iter().filter_map(|k| node.get(*k).and_then(Value::as_array)).flatten();
    if branches.into_iter().any(|b| defines(root, b, tokens)) {
        return true;
    }
    if let Some(child) = node.get("properties").and_then(|p| p.get(first.as_str()))
        && defines(root, child, rest)
    {
        return true;
    }
    if let Some(values) = node.get("additionalProperties").filter(|a| a.is_object())
        && defines(root, values, rest)
    {
        return true;
    }
    match node.get("items") {
        Some(items) if first.parse::<usize>().is_ok() => defines(root, items, rest),
        _ => false,
    }
}

/// Whether the scenario format (its JSON Schema) has a field at `pointer`.
pub(super) fn format_defines(schema: &Value, pointer: &str) -> bool {
    tokens(pointer).is_some_and(|t| defines(schema, schema, &t))
}

/// Sets the field at `pointer`, creating the objects on the way that the scenario leaves out
/// (`null` or absent). A list index must exist: lists are not grown.
pub(super) fn set(scenario: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
    let tokens = tokens(pointer).ok_or_else(|| format!("`{pointer}` does not start with `/`"))?;
    let mut at = scenario;
    let mut path = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if at.is_null() {
            *at = Value::Object(Map::new());
        }
        let last = i + 1 == tokens.len();
        at = match at {
            Value::Object(map) => {
                if last {
                    map.insert(token.clone(), value);
                    return Ok(());
                }
                map.entry(token.clone()).or_insert(Value::Null)
            }
            Value::Array(list) => {
                let index = token.parse::<usize>().ok().filter(|&i| i < list.len()).ok_or_else(|| {
                    format!("`{path}` is a list of {}: `{token}` is not a position in it", list.len())
                })?;
                if last {
                    list[index] = value;
                    return Ok(());
                }
                &mut list[index]
            }
            other => {
                return Err(format!(
                    "`{path}` is `{other}` in the base, which has no field `{token}`: vary `{path}` whole"
                ));
            }
        };
        path.push('/');
        path.push_str(&token.replace('~', "~0").replace('/', "~1"));
    }
    Err("an empty pointer names the whole scenario".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_unescape() {
        assert_eq!(tokens("/a~1b/c~0d/0"), Some(vec!["a/b".to_owned(), "c~d".to_owned(), "0".to_owned()]));
        assert_eq!(tokens("a/b"), None);
    }

    #[test]
    fn the_format_defines_fields_the_base_leaves_out() {
        let schema = crate::scenario::schema();
        assert!(format_defines(&schema, "/backend/bypass/poll_interval"));
        assert!(format_defines(&schema, "/clients/0/retry/max_attempts"));
        assert!(format_defines(&schema, "/backend/cvm/creation_delay/lognormal/median"));
        assert!(!format_defines(&schema, "/backend/bypass/poll_intervall"));
        assert!(!format_defines(&schema, "/clients/x/retry"));
    }

    #[test]
    fn setting_creates_left_out_objects_but_never_grows_a_list() {
        let mut scenario = json!({ "clients": [ { "type": "terminate_job", "retry": null } ], "backend": { "bypass": { "poll_interval": "10s" } } });
        set(&mut scenario, "/clients/0/retry/max_attempts", json!(5)).unwrap();
        assert_eq!(scenario["clients"][0]["retry"], json!({ "max_attempts": 5 }));
        assert!(set(&mut scenario, "/clients/1/at", json!("1s")).unwrap_err().contains("is a list of 1"));
        let err = set(&mut scenario, "/backend/bypass/poll_interval/x", json!(1)).unwrap_err();
        assert!(err.contains("vary `/backend/bypass/poll_interval` whole"), "{err}");
    }
}
