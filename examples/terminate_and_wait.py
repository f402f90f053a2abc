"""Terminates a job and polls until it has ended, retrying throttled calls by hand (the SDK does not
retry by default, and its opt-in retryer is unreliable: serve-wire.md §6). Point it at termsim
serve: `TERMSIM_ENDPOINT=127.0.0.1:9000 python3 examples/terminate_and_wait.py [JOB_ID]`."""
import os, sys, time
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.batch.v20170312 import batch_client, models

profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=os.environ.get("TERMSIM_ENDPOINT", "127.0.0.1:9000")))
batch = batch_client.BatchClient(credential.Credential("AKIDexample", "any-key"), "ap-guangzhou", profile)
job = sys.argv[1] if len(sys.argv) > 1 else "job-nightly1"

def call(action, **fields):
    request = getattr(models, action + "Request")()
    request._deserialize(fields)
    for attempt in range(8):
        try:
            return getattr(batch, action)(request)
        except TencentCloudSDKException as e:
            if e.code != "RequestLimitExceeded":
                raise
            time.sleep(0.25 * 2 ** attempt)
    raise RuntimeError(f"{action} still throttled")

while call("DescribeJob", JobId=job).JobState == "SUBMITTED":  # TerminateJob is refused then
    time.sleep(1)
call("TerminateJob", JobId=job)
while (state := call("DescribeJob", JobId=job).JobState) not in ("FAILED", "SUCCEED"):
    print(job, state, flush=True)
    time.sleep(1)
print(job, state)
