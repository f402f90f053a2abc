"""A termination script on the official Tencent Cloud Python SDKs, run by tests/sdk.rs against
`termsim serve --clock manual` on the scenario of tests/sdk.rs. Every expected state was worked out
by hand from that scenario's constant delays (see tests/sdk.rs). Exits non-zero on the first
difference, printing it."""

import json
import os
import sys
import time
import urllib.request

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.batch.v20170312 import batch_client, models as batch_models
from tencentcloud.dlc.v20210125 import dlc_client, models as dlc_models
from tencentcloud.tat.v20201028 import tat_client, models as tat_models

PORT = os.environ["TERMSIM_PORT"]
SECRET_ID = os.environ["TERMSIM_SECRET_ID"]
SECRET_KEY = os.environ["TERMSIM_SECRET_KEY"]
PROFILE = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{PORT}"))
JOB = "job-served01"
DLC_TASK = "00000000-0000-4000-8000-000000000001"


def clients(secret_id=SECRET_ID, secret_key=SECRET_KEY):
    cred = credential.Credential(secret_id, secret_key)
    return (batch_client.BatchClient(cred, "ap-guangzhou", PROFILE),
            dlc_client.DlcClient(cred, "ap-guangzhou", PROFILE),
            tat_client.TatClient(cred, "ap-guangzhou", PROFILE))


batch, dlc, tat = clients()


def control(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data,
                                     method="GET" if body is None else "POST")
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def advance_to(seconds):
    return control("/termsim/advance", {"to": seconds})


def request(model_class, **fields):
    r = model_class()
    r.from_json_string(json.dumps(fields))
    return r


def error_of(call):
    try:
        call()
    except TencentCloudSDKException as e:
        assert e.requestId, f"{e.code} without a RequestId"
        return e.code
    raise AssertionError("the call succeeded; an error was expected")


def check(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def describe_job():
    return batch.DescribeJob(request(batch_models.DescribeJobRequest, JobId=JOB))


def instance_states():
    answer = batch.DescribeTask(request(batch_models.DescribeTaskRequest, JobId=JOB, TaskName="A"))
    return [i.TaskInstanceState for i in answer.TaskInstanceSet]


def terminate_instance(index):
    return batch.TerminateTaskInstance(request(batch_models.TerminateTaskInstanceRequest,
                                               JobId=JOB, TaskName="A", TaskInstanceIndex=index))


def main():
    # 0 s: the job is known and SUBMITTED.
    job = describe_job()
    check(job.JobState, "SUBMITTED", "JobState at 0 s")
    check(job.TaskInstanceMetrics.SubmittedCount, 4, "SubmittedCount at 0 s")
    check(type(job.TaskInstanceMetrics.SubmittedCount), int, "a count is a JSON number")
    check(job.RequestId is not None, True, "RequestId")

    # 50 s: the CVMs are being created (until 92 s): a termination goes to the bypass.
    advance_to(50)
    check(instance_states(), ["STARTING"] * 4, "states at 50 s")
    terminate_instance(0)
    terminate_instance(1)
    # A third TerminateTaskInstance in the same second: over the documented 2/s.
    check(error_of(lambda: terminate_instance(2)), "RequestLimitExceeded", "the third call in one second")
    check(instance_states(), ["STARTING"] * 4, "the bypass holds instances 0 and 1")

    # While the bypass waits: the CVMs come at 92 s, the bypass polls at 100 s, the CVMs take
    # 10 s to terminate.
    advance_to(99)
    check(instance_states(), ["STARTING", "STARTING", "RUNNING", "RUNNING"], "states at 99 s")
    advance_to(109.999999)
    check(instance_states(), ["STARTING", "STARTING", "RUNNING", "RUNNING"], "states just before 110 s")
    advance_to(110)
    check(instance_states(), ["FAILED", "FAILED", "RUNNING", "RUNNING"], "states at 110 s")

    # TerminateJob at 110 s walks the 4 instances at 1 s each: 2 at 113 s, 3 at 114 s, each
    # FAILED 10 s later. A second TerminateJob during the walk: ResourceInUse.Job.
    batch.TerminateJob(request(batch_models.TerminateJobRequest, JobId=JOB))
    advance_to(111)
    check(error_of(lambda: batch.TerminateJob(request(batch_models.TerminateJobRequest, JobId=JOB))),
          "ResourceInUse.Job", "TerminateJob while the first walks")
    seen = []
    for second in range(111, 126):
        advance_to(second)
        job = describe_job()
        seen.append((second, job.JobState, job.TaskInstanceMetrics.FailedCount))
    expected = [(s, "RUNNING", 2) for s in range(111, 123)] + [(123, "RUNNING", 3), (124, "FAILED", 4), (125, "FAILED", 4)]
    check(seen, expected, "what a polling script sees while TerminateJob walks")

    jobs = batch.DescribeJobs(request(batch_models.DescribeJobsRequest, JobIds=[JOB]))
    check([(j.JobId, j.JobState) for j in jobs.JobSet], [(JOB, "FAILED")], "DescribeJobs by id")
    check(jobs.TotalCount, 1, "TotalCount")
    failed = batch.DescribeJobs(request(batch_models.DescribeJobsRequest,
                                        Filters=[{"Name": "job-state", "Values": ["FAILED"]}]))
    check([j.JobId for j in failed.JobSet], [JOB, "job-backgr01"], "DescribeJobs on job-state (the background job was terminated at 30 s)")

    # Errors the SDK must see as errors.
    check(error_of(lambda: batch.DescribeJob(request(batch_models.DescribeJobRequest, JobId="job-nothere1"))),
          "ResourceNotFound.Job", "an unknown job")
    check(error_of(lambda: batch.TerminateJob(request(batch_models.TerminateJobRequest, JobId="not-a-job"))),
          "InvalidParameter.JobIdMalformed", "a malformed job id")
    check(error_of(lambda: batch.DescribeTask(request(batch_models.DescribeTaskRequest, JobId=JOB, TaskName="Z"))),
          "ResourceNotFound.Task", "an unknown task")
    check(error_of(lambda: batch.DescribeJob(batch_models.DescribeJobRequest())), "MissingParameter",
          "a request without its JobId")

    # DLC: the task runs (state 1, an int); CancelTask, then another while the first is in
    # progress.
    tasks = dlc.DescribeTasks(request(dlc_models.DescribeTasksRequest,
                                      Filters=[{"Name": "task-id", "Values": [DLC_TASK]}]))
    check([(t.Id, t.State) for t in tasks.TaskList], [(DLC_TASK, 1)], "the DLC task running")
    dlc.CancelTask(request(dlc_models.CancelTaskRequest, TaskId=DLC_TASK))
    check(error_of(lambda: dlc.CancelTask(request(dlc_models.CancelTaskRequest, TaskId=DLC_TASK))),
          "FailedOperation.AnotherRequestProcessing", "a second CancelTask while the first is in progress")
    advance_to(200)
    result = dlc.DescribeTaskResult(request(dlc_models.DescribeTaskResultRequest, TaskId=DLC_TASK))
    check(result.TaskInfo.State, -3, "the DLC task cancelled")

    # TAT: the invocation runs on both instances; cancel it on one.
    invocations = tat.DescribeInvocations(request(tat_models.DescribeInvocationsRequest, InvocationIds=["inv-served01"]))
    check([i.InvocationStatus for i in invocations.InvocationSet], ["RUNNING"], "the invocation running")
    tat.CancelInvocation(request(tat_models.CancelInvocationRequest, InvocationId="inv-served01",
                                 InstanceIds=["ins-00000001"]))
    advance_to(300)
    tasks = tat.DescribeInvocationTasks(request(tat_models.DescribeInvocationTasksRequest,
                                                Filters=[{"Name": "invocation-id", "Values": ["inv-served01"]}]))
    check(sorted((t.InstanceId, t.TaskStatus) for t in tasks.InvocationTaskSet),
          [("ins-00000001", "TERMINATED"), ("ins-00000002", "RUNNING")], "TAT tasks after the cancel")

    # Authentication, through the SDK: a wrong key, an unknown SecretId, a stale timestamp.
    wrong_key, _, _ = clients(SECRET_ID, "not-the-key")
    check(error_of(lambda: wrong_key.DescribeJob(request(batch_models.DescribeJobRequest, JobId=JOB))),
          "AuthFailure.SignatureFailure", "a wrong key")
    stranger, _, _ = clients("AKIDstranger", "whatever")
    check(error_of(lambda: stranger.DescribeJob(request(batch_models.DescribeJobRequest, JobId=JOB))),
          "AuthFailure.SecretIdNotFound", "an unknown SecretId")
    real_time = time.time
    time.time = lambda: real_time() - 400
    try:
        check(error_of(describe_job), "AuthFailure.SignatureExpire", "a timestamp 400 s old")
    finally:
        time.time = real_time

    # A flood from one account: exactly 2 of 12 TerminateTaskInstance pass in one second.
    advance_to(400)
    outcomes = []
    for _ in range(12):
        try:
            terminate_instance(3)
            outcomes.append("ok")
        except TencentCloudSDKException as e:
            outcomes.append(e.code)
    check(outcomes, ["ok"] * 2 + ["RequestLimitExceeded"] * 10, "a flood of 12 calls in one second")
    print("sdk session: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"sdk session: {e}", file=sys.stderr)
        sys.exit(1)
