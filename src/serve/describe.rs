//! The answers of the Describe calls, read from the model's live state (serve-wire.md §7.5–§7.12):
//! every field a polling script reads, with the SDK's types (numbers as numbers, empty lists as
//! `[]`). The model decided the call's error, if any; these build the success's fields.
//!
//! Times: simulated time 0 is the instant the server started listening, so a time is that wall
//! instant plus the simulated seconds. Batch writes `YYYY-MM-DDThh:mm:ssZ`, TAT the same with
//! `+00:00`, DLC milliseconds since the epoch as a decimal string (§7.2). Fields the model has no
//! value for are the documented empty value (`""`, `null` where the API says it may be null):
//! `EndTime` is null, as the model keeps no end time per job or task.

use serde_json::{Map, Value, json};

use crate::engine::SimTime;
use crate::model::{Action, DlcState, InstanceState, View};

use super::sign::utc_datetime;
use super::wire::filters;

/// What a Describe answer needs besides the state: the wall time of simulated time 0 (Unix
/// seconds).
pub(super) struct Clock {
    pub(super) epoch_s: i64,
}

impl Clock {
    fn batch(&self, t: SimTime) -> String {
        utc_datetime(self.epoch_s + (t.micros() / 1_000_000) as i64)
    }

    fn tat(&self, t: SimTime) -> String {
        self.batch(t).replace('Z', "+00:00")
    }

    fn dlc(&self, t: SimTime) -> String {
        (self.epoch_s * 1000 + (t.micros() / 1000) as i64).to_string()
    }
}

fn page(body: &Map<String, Value>, default_limit: u64, max_limit: u64) -> (usize, usize) {
    let offset = body.get("Offset").and_then(Value::as_u64).unwrap_or(0);
    let limit = body.get("Limit").and_then(Value::as_u64).unwrap_or(default_limit).min(max_limit);
    (offset as usize, limit as usize)
}

fn metrics(states: impl Iterator<Item = Option<InstanceState>>) -> Value {
    let mut counts = [0u64; InstanceState::ALL.len()];
    for state in states.flatten() {
        counts[state as usize] += 1;
    }
    let count = |s: InstanceState| counts[s as usize];
    json!({
        "SubmittedCount": count(InstanceState::Submitted),
        "PendingCount": count(InstanceState::Pending),
        "RunnableCount": count(InstanceState::Runnable),
        "StartingCount": count(InstanceState::Starting),
        "RunningCount": count(InstanceState::Running),
        "SucceedCount": count(InstanceState::Succeed),
        "FailedInterruptedCount": count(InstanceState::FailedInterrupted),
        "FailedCount": count(InstanceState::Failed),
    })
}

fn state_name(state: Option<InstanceState>) -> &'static str {
    state.map_or("SUBMITTED", InstanceState::as_str)
}

/// The fields of a Describe call's success, for `action` and the request `body`.
pub(super) fn answer(action: Action, body: &Map<String, Value>, view: &View, clock: &Clock) -> Map<String, Value> {
    let fields = match action {
        Action::DescribeJob => describe_job(body, view, clock),
        Action::DescribeJobs => describe_jobs(body, view, clock),
        Action::DescribeTask => describe_task(body, view, clock),
        Action::DescribeTasks => describe_dlc_tasks(body, view, clock),
        Action::DescribeTaskResult => describe_task_result(body, view, clock),
        Action::DescribeInvocations => describe_invocations(body, view, clock),
        Action::DescribeInvocationTasks => describe_invocation_tasks(body, view, clock),
        _ => json!({}),
    };
    match fields {
        Value::Object(map) => map,
        _ => unreachable!("answers are objects"),
    }
}

/// The ids a list call names: its `list` parameter, or else the values of its filter `filter`.
fn listed_or_filtered(
    body: &Map<String, Value>,
    filters: &[(String, Vec<String>)],
    list: &str,
    filter: &str,
) -> Option<Vec<String>> {
    body.get(list)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .or_else(|| filters.iter().find(|(n, _)| n == filter).map(|(_, v)| v.clone()))
}

fn job_index(view: &View, id: &str) -> Option<usize> {
    view.config.jobs.iter().position(|j| j.id == id && view.now >= j.submit_at)
}

fn describe_job(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let id = body.get("JobId").and_then(Value::as_str).unwrap_or_default();
    let j = job_index(view, id).expect("the model answered ResourceNotFound.Job otherwise");
    let job = &view.config.jobs[j];
    let runtime = &view.jobs[j];
    let tasks = &view.tasks[runtime.first_task as usize..(runtime.first_task + runtime.task_count) as usize];
    let instances =
        &view.instances[runtime.first_instance as usize..(runtime.first_instance + runtime.instance_count) as usize];
    let created = clock.batch(job.submit_at);
    json!({
        "JobId": job.id,
        "JobName": job.id,
        "Zone": "ap-guangzhou-3",
        "Priority": 0,
        "JobState": state_name(runtime.state),
        "CreateTime": created,
        "EndTime": null,
        "TaskSet": job.tasks.iter().zip(tasks).map(|(task, t)| json!({
            "TaskName": task.name,
            "TaskState": state_name(t.state),
            "CreateTime": created,
            "EndTime": null,
        })).collect::<Vec<_>>(),
        "DependenceSet": job.tasks.iter().flat_map(|task| task.depends_on.iter().map(move |&d| json!({
            "StartTask": job.tasks[d as usize].name,
            "EndTask": task.name,
        }))).collect::<Vec<_>>(),
        "TaskMetrics": metrics(tasks.iter().map(|t| t.state)),
        "TaskInstanceMetrics": metrics(instances.iter().map(|i| Some(i.state))),
        "StateReason": "",
        "Tags": [],
        "NextAction": "",
    })
}

fn describe_jobs(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let filters = filters(body).unwrap_or_default();
    let ids = listed_or_filtered(body, &filters, "JobIds", "job-id");
    let states = filters.iter().find(|(n, _)| n == "job-state").map(|(_, v)| v.clone());
    let names = filters.iter().find(|(n, _)| n == "job-name").map(|(_, v)| v.clone());
    let matching: Vec<usize> = (0..view.config.jobs.len())
        .filter(|&j| view.now >= view.config.jobs[j].submit_at)
        .filter(|&j| ids.as_ref().is_none_or(|ids| ids.contains(&view.config.jobs[j].id)))
        .filter(|&j| names.as_ref().is_none_or(|names| names.contains(&view.config.jobs[j].id)))
        .filter(|&j| states.as_ref().is_none_or(|s| s.iter().any(|s| s == state_name(view.jobs[j].state))))
        .collect();
    let (offset, limit) = page(body, 20, 100);
    let set: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&j| {
            let job = &view.config.jobs[j];
            let runtime = &view.jobs[j];
            let tasks = &view.tasks[runtime.first_task as usize..(runtime.first_task + runtime.task_count) as usize];
            json!({
                "JobId": job.id,
                "JobName": job.id,
                "JobState": state_name(runtime.state),
                "Priority": 0,
                "Placement": { "Zone": "ap-guangzhou-3", "ProjectId": 0 },
                "CreateTime": clock.batch(job.submit_at),
                "EndTime": null,
                "TaskMetrics": metrics(tasks.iter().map(|t| t.state)),
                "Tags": [],
            })
        })
        .collect();
    json!({ "JobSet": set, "TotalCount": matching.len() })
}

fn describe_task(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let id = body.get("JobId").and_then(Value::as_str).unwrap_or_default();
    let name = body.get("TaskName").and_then(Value::as_str).unwrap_or_default();
    let j = job_index(view, id).expect("the model answered ResourceNotFound.Job otherwise");
    let job = &view.config.jobs[j];
    let t = job.tasks.iter().position(|t| t.name == name).expect("the model answered ResourceNotFound.Task otherwise");
    let runtime = &view.tasks[(view.jobs[j].first_task as usize) + t];
    let first = runtime.first_instance as usize;
    let instances = &view.instances[first..first + runtime.count as usize];
    let states =
        filters(body).unwrap_or_default().into_iter().find(|(n, _)| n == "task-instance-state").map(|(_, v)| v);
    let matching: Vec<usize> = (0..instances.len())
        .filter(|&i| states.as_ref().is_none_or(|s| s.iter().any(|s| s == instances[i].state.as_str())))
        .collect();
    let (offset, limit) = page(body, 100, 1000);
    let created = clock.batch(job.submit_at);
    let set: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&i| {
            let state = instances[i].state;
            let exit_code = match state {
                InstanceState::Succeed => json!(0),
                InstanceState::Failed | InstanceState::FailedInterrupted => json!(1),
                _ => Value::Null,
            };
            json!({
                "TaskInstanceIndex": i,
                "TaskInstanceState": state.as_str(),
                "ExitCode": exit_code,
                "StateReason": "",
                "StateDetailedReason": "",
                "ComputeNodeInstanceId": "",
                "CreateTime": created,
                "LaunchTime": null,
                "RunningTime": null,
                "EndTime": null,
                "RedirectInfo": null,
            })
        })
        .collect();
    json!({
        "JobId": job.id,
        "TaskName": name,
        "TaskState": state_name(runtime.state),
        "CreateTime": created,
        "EndTime": null,
        "TaskInstanceTotalCount": matching.len(),
        "TaskInstanceSet": set,
        "TaskInstanceMetrics": metrics(instances.iter().map(|i| Some(i.state))),
    })
}

fn dlc_task(view: &View, clock: &Clock, t: usize) -> Value {
    let task = &view.config.dlc_tasks[t];
    let state = view.dlc[t].state.unwrap_or(DlcState::Queued);
    let used_ms = (view.now.micros().saturating_sub(task.submit_at.micros()) / 1000) as i64;
    json!({
        "Id": task.id,
        "State": state.sdk_code(),
        "CreateTime": clock.dlc(task.submit_at),
        "UpdateTime": clock.dlc(view.now),
        "Percentage": if state == DlcState::Succeeded { 100 } else { 0 },
        "OutputMessage": if state == DlcState::Cancelled { "task cancelled" } else { "" },
        "SQL": "",
        "SQLType": "",
        "DatabaseName": "",
        "DataEngineName": "",
        "DataAmount": 0,
        "OutputPath": "",
        "ResultExpired": false,
        "RowAffectInfo": "",
        "DataSet": "",
        "Error": "",
        "TaskType": "SparkSQLTask",
        "ProgressDetail": "",
        "UsedTime": used_ms,
        "TotalTime": used_ms,
    })
}

fn describe_dlc_tasks(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let filters = filters(body).unwrap_or_default();
    let ids = filters.iter().find(|(n, _)| n == "task-id").map(|(_, v)| v.clone());
    let states = filters.iter().find(|(n, _)| n == "task-state").map(|(_, v)| v.clone());
    let known: Vec<usize> =
        (0..view.config.dlc_tasks.len()).filter(|&t| view.now >= view.config.dlc_tasks[t].submit_at).collect();
    let matching: Vec<usize> = known
        .iter()
        .copied()
        .filter(|&t| ids.as_ref().is_none_or(|ids| ids.contains(&view.config.dlc_tasks[t].id)))
        .filter(|&t| {
            let code = view.dlc[t].state.unwrap_or(DlcState::Queued).sdk_code().to_string();
            states.as_ref().is_none_or(|s| s.contains(&code))
        })
        .collect();
    let (offset, limit) = page(body, 10, 100);
    let count = |s: DlcState| known.iter().filter(|&&t| view.dlc[t].state == Some(s)).count();
    json!({
        "TaskList": matching.iter().skip(offset).take(limit).map(|&t| dlc_task(view, clock, t)).collect::<Vec<_>>(),
        "TotalCount": matching.len(),
        "TasksOverview": {
            "TaskQueuedCount": count(DlcState::Queued),
            "TaskInitCount": count(DlcState::Initializing),
            "TaskRunningCount": count(DlcState::Running) + count(DlcState::WritingData),
            "TotalTaskCount": known.len(),
        },
    })
}

fn describe_task_result(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let id = body.get("TaskId").and_then(Value::as_str).unwrap_or_default();
    let found = (0..view.config.dlc_tasks.len())
        .find(|&t| view.config.dlc_tasks[t].id == id && view.now >= view.config.dlc_tasks[t].submit_at);
    let Some(t) = found else { return json!({ "TaskInfo": null }) };
    let task = dlc_task(view, clock, t);
    json!({ "TaskInfo": {
        "TaskId": task["Id"],
        "DatasourceConnectionName": "DataLakeCatalog",
        "DatabaseName": "",
        "SQL": "",
        "SQLType": "",
        "State": task["State"],
        "DataAmount": 0,
        "UsedTime": task["UsedTime"],
        "OutputPath": "",
        "CreateTime": task["CreateTime"],
        "OutputMessage": task["OutputMessage"],
        "RowAffectInfo": "",
        "ResultSchema": [],
        "ResultSet": "",
        "NextToken": "",
        "Percentage": task["Percentage"],
        "ProgressDetail": "",
        "DisplayFormat": "table",
        "TotalTime": task["TotalTime"],
    }})
}

/// `invt-` and eight characters: an invocation task's id, derived from its position.
fn invocation_task_id(k: usize) -> String {
    format!("invt-{:08x}", (k as u64).wrapping_mul(0x9e37_79b9) & 0xffff_ffff)
}

fn started_invocations<'a>(view: &'a View<'a>) -> impl Iterator<Item = usize> + 'a {
    (0..view.config.tat_invocations.len()).filter(move |&v| view.now >= view.config.tat_invocations[v].at)
}

fn describe_invocations(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let filters = filters(body).unwrap_or_default();
    let ids = listed_or_filtered(body, &filters, "InvocationIds", "invocation-id");
    let matching: Vec<usize> = started_invocations(view)
        .filter(|&v| ids.as_ref().is_none_or(|ids| ids.contains(&view.config.tat_invocations[v].id)))
        .collect();
    let (offset, limit) = page(body, 20, 100);
    let set: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&v| {
            let invocation = &view.config.tat_invocations[v];
            let (status, first) = view.invocation(v);
            let tasks: Vec<Value> = invocation
                .instances
                .iter()
                .enumerate()
                .map(|(n, instance)| {
                    json!({
                        "InvocationTaskId": invocation_task_id(first + n),
                        "TaskStatus": view.tat_tasks[first + n].state.map_or("PENDING", |s| s.as_str()),
                        "InstanceId": instance,
                    })
                })
                .collect();
            json!({
                "InvocationId": invocation.id,
                "CommandId": "cmd-00000000",
                "CommandName": "",
                "InvocationStatus": status.map_or("PENDING", |s| s.as_str()),
                "InvocationTaskBasicInfoSet": tasks,
                "Description": "",
                "StartTime": clock.tat(invocation.at),
                "EndTime": null,
                "CreatedTime": clock.tat(invocation.at),
                "UpdatedTime": clock.tat(view.now),
                "Parameters": "{}",
                "DefaultParameters": "{}",
                "InstanceKind": "CVM",
                "Username": "root",
                "InvocationSource": "USER",
                "CommandContent": "",
                "CommandType": "SHELL",
                "Timeout": 3600,
                "WorkingDirectory": "",
                "OutputCOSBucketUrl": "",
                "OutputCOSKeyPrefix": "",
            })
        })
        .collect();
    json!({ "TotalCount": matching.len(), "InvocationSet": set })
}

fn describe_invocation_tasks(body: &Map<String, Value>, view: &View, clock: &Clock) -> Value {
    let filters = filters(body).unwrap_or_default();
    let filter = |name: &str| filters.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let task_ids = listed_or_filtered(body, &filters, "InvocationTaskIds", "invocation-task-id");
    let (invocations, instances) = (filter("invocation-id"), filter("instance-id"));
    let mut matching = Vec::new();
    for v in started_invocations(view) {
        let invocation = &view.config.tat_invocations[v];
        if invocations.as_ref().is_some_and(|ids| !ids.contains(&invocation.id)) {
            continue;
        }
        let (_, first) = view.invocation(v);
        for (n, instance) in invocation.instances.iter().enumerate() {
            let k = first + n;
            if instances.as_ref().is_some_and(|ids| !ids.contains(instance))
                || task_ids.as_ref().is_some_and(|ids| !ids.contains(&invocation_task_id(k)))
            {
                continue;
            }
            matching.push((v, n, k));
        }
    }
    let (offset, limit) = page(body, 20, 100);
    let set: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|&(v, n, k)| {
            let invocation = &view.config.tat_invocations[v];
            let status = view.tat_tasks[k].state.map_or("PENDING", |s| s.as_str());
            json!({
                "InvocationId": invocation.id,
                "InvocationTaskId": invocation_task_id(k),
                "CommandId": "cmd-00000000",
                "TaskStatus": status,
                "InstanceId": invocation.instances[n],
                "TaskResult": {
                    "ExitCode": match status { "SUCCESS" => 0, "TERMINATED" => 137, "FAILED" => 1, _ => 0 },
                    "Output": "",
                    "ExecStartTime": null,
                    "ExecEndTime": null,
                    "Dropped": 0,
                    "OutputUrl": "",
                    "OutputUploadCOSErrorInfo": "",
                },
                "StartTime": null,
                "EndTime": null,
                "CreatedTime": clock.tat(invocation.at),
                "UpdatedTime": clock.tat(view.now),
                "CommandDocument": {
                    "Content": "",
                    "CommandType": "SHELL",
                    "Timeout": 3600,
                    "WorkingDirectory": "",
                    "Username": "root",
                    "OutputCOSBucketUrl": "",
                    "OutputCOSKeyPrefix": "",
                },
                "ErrorInfo": "",
                "InvocationSource": "USER",
                "CommandName": "",
            })
        })
        .collect();
    json!({ "TotalCount": matching.len(), "InvocationTaskSet": set })
}
