//! TencentCloud API 3.0 on the wire (serve-wire.md): the services and versions, the envelopes,
//! and a call's JSON body turned into the model's [`Call`], refused with the API's common codes
//! when it is not one (`MissingParameter`, `UnknownParameter`, `InvalidParameter`).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::model::Action;
use crate::model::config::Call;

/// The version each service answers (serve-wire.md, table at the top).
pub fn version_of(service: &str) -> Option<&'static str> {
    match service {
        "batch" => Some("2017-03-12"),
        "dlc" => Some("2021-01-25"),
        "tat" => Some("2020-10-28"),
        _ => None,
    }
}

/// The action `name` of `service`, if termsim answers it.
pub fn action_of(service: &str, name: &str) -> Option<Action> {
    Action::ALL.into_iter().find(|a| a.service() == service && a.as_str() == name)
}

/// `{"Response": {FIELDS..., "RequestId": ID}}`.
pub fn success(request_id: &str, mut fields: Map<String, Value>) -> Vec<u8> {
    fields.insert("RequestId".into(), Value::String(request_id.into()));
    serde_json::to_vec(&json!({ "Response": fields })).expect("plain JSON")
}

/// `{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`: every field the SDK requires.
pub fn error(request_id: &str, code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(
        &json!({ "Response": { "Error": { "Code": code, "Message": message }, "RequestId": request_id } }),
    )
    .expect("plain JSON")
}

/// A refusal before the model: the common error code and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The common error code.
    pub code: &'static str,
    /// Its message.
    pub message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused { code, message: message.into() }
}

/// The parameters each action takes, required ones first (`required` of them), as the SDK's
/// request models declare them.
fn parameters(action: Action) -> (usize, &'static [&'static str]) {
    match action {
        Action::TerminateTaskInstance => (3, &["JobId", "TaskName", "TaskInstanceIndex"]),
        Action::TerminateJob | Action::DescribeJob => (1, &["JobId"]),
        Action::CancelTask => (1, &["TaskId"]),
        Action::CancelInvocation => (1, &["InvocationId", "InstanceIds"]),
        Action::DescribeJobs => (0, &["JobIds", "Filters", "Offset", "Limit"]),
        Action::DescribeTask => (2, &["JobId", "TaskName", "Offset", "Limit", "Filters"]),
        Action::DescribeTasks => (
            0,
            &[
                "Limit",
                "Offset",
                "Filters",
                "SortBy",
                "Sorting",
                "StartTime",
                "EndTime",
                "DataEngineName",
                "ResourceGroupName",
            ],
        ),
        Action::DescribeTaskResult => {
            (1, &["TaskId", "NextToken", "MaxResults", "IsTransformDataType", "DataFieldCutLen"])
        }
        Action::DescribeInvocations => (0, &["InvocationIds", "Filters", "Limit", "Offset"]),
        Action::DescribeInvocationTasks => (0, &["InvocationTaskIds", "Filters", "Limit", "Offset", "HideOutput"]),
    }
}

/// The call a body asks for. `body` is the parsed JSON object; what only shapes a Describe
/// answer (filters, offsets, limits) stays in it for the answer to read.
pub fn call_of(action: Action, body: &Map<String, Value>) -> Result<Call, Refused> {
    let (required, known) = parameters(action);
    if let Some(unknown) = body.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(refused("UnknownParameter", format!("The parameter `{unknown}` is not defined for {action}.")));
    }
    if let Some(missing) = known[..required].iter().find(|k| body.get(**k).is_none_or(Value::is_null)) {
        return Err(refused("MissingParameter", format!("The request is missing the required parameter `{missing}`.")));
    }
    let string = |name: &str| -> Result<Option<Arc<str>>, Refused> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str().into())),
            Some(_) => Err(refused("InvalidParameter", format!("The parameter `{name}` must be a string."))),
        }
    };
    let strings = |name: &str| -> Result<Option<Vec<String>>, Refused> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => {
                items.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>().map(Some).ok_or_else(
                    || refused("InvalidParameter", format!("The parameter `{name}` must be a list of strings.")),
                )
            }
            Some(_) => Err(refused("InvalidParameter", format!("The parameter `{name}` must be a list of strings."))),
        }
    };
    for name in ["Offset", "Limit", "MaxResults", "DataFieldCutLen"] {
        if let Some(v) = body.get(name)
            && !v.is_null()
            && !v.is_u64()
        {
            return Err(refused("InvalidParameter", format!("The parameter `{name}` must be a whole number.")));
        }
    }
    let filters = filters(body)?;
    let filtered = |name: &str| filters.iter().find(|(n, _)| n == name).map(|(_, values)| values.clone());
    let ids_or_filter = |list: &str, filter: &str| -> Result<Option<Arc<[String]>>, Refused> {
        let listed = strings(list)?;
        if listed.is_some() && !filters.is_empty() {
            return Err(refused("InvalidParameter", format!("`{list}` and `Filters` cannot be given together.")));
        }
        Ok(listed.or_else(|| filtered(filter)).map(Into::into))
    };
    let one = |name: &str| -> Result<Option<Arc<[String]>>, Refused> {
        Ok(string(name)?.map(|s| Arc::from([s.to_string()])))
    };
    let text = |name: &str| string(name).map(|s| s.expect("required, checked above"));
    let call = match action {
        Action::TerminateTaskInstance => {
            let index = match body.get("TaskInstanceIndex") {
                Some(Value::Number(n)) if n.is_i64() => n.as_i64().expect("checked"),
                _ => {
                    return Err(refused("InvalidParameter", "The parameter `TaskInstanceIndex` must be an integer."));
                }
            };
            Call::TerminateTaskInstance { job: text("JobId")?, task: text("TaskName")?, index }
        }
        Action::TerminateJob => Call::TerminateJob { job: text("JobId")? },
        Action::CancelTask => Call::CancelTask { task_id: text("TaskId")? },
        Action::CancelInvocation => Call::CancelInvocation {
            invocation: text("InvocationId")?,
            instances: strings("InstanceIds")?.map(Into::into),
        },
        Action::DescribeJob => Call::Describe { action, ids: one("JobId")?, task: None, instances: None },
        Action::DescribeTask => {
            Call::Describe { action, ids: one("JobId")?, task: Some(text("TaskName")?), instances: None }
        }
        Action::DescribeTaskResult => Call::Describe { action, ids: one("TaskId")?, task: None, instances: None },
        Action::DescribeJobs => {
            Call::Describe { action, ids: ids_or_filter("JobIds", "job-id")?, task: None, instances: None }
        }
        Action::DescribeTasks => {
            Call::Describe { action, ids: filtered("task-id").map(Into::into), task: None, instances: None }
        }
        Action::DescribeInvocations => Call::Describe {
            action,
            ids: ids_or_filter("InvocationIds", "invocation-id")?,
            task: None,
            instances: None,
        },
        Action::DescribeInvocationTasks => Call::Describe {
            action,
            ids: filtered("invocation-id").map(Into::into),
            task: None,
            instances: filtered("instance-id").map(Into::into),
        },
    };
    Ok(call)
}

/// `Filters: [{"Name": N, "Values": [V...]}...]`, as `(N, [V...])`.
pub fn filters(body: &Map<String, Value>) -> Result<Vec<(String, Vec<String>)>, Refused> {
    let bad =
        || refused("InvalidParameter", "`Filters` must be a list of {\"Name\": string, \"Values\": [string...]}.");
    let Some(list) = body.get("Filters").filter(|v| !v.is_null()) else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(bad)?;
    list.iter()
        .map(|f| {
            let name = f.get("Name").and_then(Value::as_str).ok_or_else(bad)?;
            let values = f.get("Values").and_then(Value::as_array).ok_or_else(bad)?;
            let values =
                values.iter().map(|v| v.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>().ok_or_else(bad)?;
            Ok((name.to_owned(), values))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn bodies_become_calls_or_the_common_errors() {
        let call = call_of(
            Action::TerminateTaskInstance,
            &body(r#"{"JobId": "job-abc12345", "TaskName": "A", "TaskInstanceIndex": 0}"#),
        );
        assert!(matches!(call, Ok(Call::TerminateTaskInstance { index: 0, .. })), "{call:?}");
        let code = |action, text| call_of(action, &body(text)).unwrap_err().code;
        assert_eq!(
            code(Action::TerminateTaskInstance, r#"{"JobId": "job-abc12345", "TaskName": "A"}"#),
            "MissingParameter"
        );
        assert_eq!(code(Action::TerminateJob, r#"{"JobId": "job-abc12345", "Force": true}"#), "UnknownParameter");
        assert_eq!(code(Action::TerminateJob, r#"{"JobId": 7}"#), "InvalidParameter");
        assert_eq!(
            code(Action::TerminateTaskInstance, r#"{"JobId": "j", "TaskName": "A", "TaskInstanceIndex": "0"}"#),
            "InvalidParameter"
        );
        assert_eq!(
            code(
                Action::DescribeJobs,
                r#"{"JobIds": ["job-abc12345"], "Filters": [{"Name": "job-id", "Values": ["x"]}]}"#
            ),
            "InvalidParameter"
        );
        assert_eq!(
            code(Action::DescribeTask, r#"{"JobId": "job-abc12345", "TaskName": "A", "Limit": -1}"#),
            "InvalidParameter"
        );
        let Ok(Call::Describe { ids, .. }) =
            call_of(Action::DescribeTasks, &body(r#"{"Filters": [{"Name": "task-id", "Values": ["a", "b"]}]}"#))
        else {
            panic!()
        };
        assert_eq!(ids.as_deref(), Some(&["a".to_string(), "b".to_string()][..]));
    }

    #[test]
    fn envelopes_carry_what_the_sdk_requires() {
        let e: Value = serde_json::from_slice(&error("id-1", "RequestLimitExceeded", "slow down")).unwrap();
        assert_eq!(
            e,
            json!({"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}, "RequestId": "id-1"}})
        );
        let mut fields = Map::new();
        fields.insert("TotalCount".into(), json!(0));
        let s: Value = serde_json::from_slice(&success("id-2", fields)).unwrap();
        assert_eq!(s, json!({"Response": {"TotalCount": 0, "RequestId": "id-2"}}));
        assert_eq!(action_of("dlc", "CancelTask"), Some(Action::CancelTask));
        assert_eq!(action_of("batch", "CancelTask"), None);
        assert_eq!(version_of("tat"), Some("2020-10-28"));
    }
}
