"""A stand-in for kubectl, for tests/deploy.rs: just enough of it to run deploy/kubernetes/run.sh.

A real cluster cannot run in CI, so this one runs the Jobs that run.sh applies on this machine,
as Kubernetes would: an Indexed Job's pods one index after another, each pod's shell script with
its container's env (values and resourceFieldRef) and JOB_COMPLETION_INDEX, the ConfigMap
mounted at /study and the volume at /results (both rewritten to folders under FAKE_KUBE_STATE),
retries up to backoffLimit, and podFailurePolicy's FailJob on an exit code. `termsim` is
whatever the test put on PATH. Every call is appended to FAKE_KUBE_STATE/calls.log.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import yaml

STATE = os.environ["FAKE_KUBE_STATE"]
STUDY = os.path.join(STATE, "study")
RESULTS = os.path.join(STATE, "results")
JOBS = os.path.join(STATE, "jobs")


def die(message, code=1):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def take(args, name):
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            value = args[i + 1]
            del args[i : i + 2]
            return value
        if a.startswith(name + "="):
            del args[i]
            return a.split("=", 1)[1]
    return None


def job_path(name):
    return os.path.join(JOBS, name + ".json")


def load_job(name):
    try:
        with open(job_path(name)) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def in_container(script):
    return script.replace("/results", RESULTS).replace("/study", STUDY)


def run_job(job):
    spec = job["spec"]
    name = job["metadata"]["name"]
    assert spec.get("completionMode", "NonIndexed") in ("Indexed", "NonIndexed")
    completions = int(spec.get("completions", 1))
    parallelism = int(spec.get("parallelism", 1))
    if parallelism < 1 or completions < 1:
        die(f"job {name}: completions and parallelism must be positive")
    per_index = spec.get("backoffLimitPerIndex")
    backoff = int(spec.get("backoffLimit", 6 if per_index is None else 2**31 - 1))
    fail_job, fail_index = set(), set()
    for rule in spec.get("podFailurePolicy", {}).get("rules", []):
        if "onExitCodes" in rule:
            {"FailJob": fail_job, "FailIndex": fail_index}[rule["action"]].update(rule["onExitCodes"]["values"])
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["/bin/sh", "-c"], container["command"]
    script = in_container(container["args"][0])
    requests = container.get("resources", {}).get("requests", {})
    env = dict(os.environ)
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
        else:
            ref = var["valueFrom"]["resourceFieldRef"]
            assert ref["resource"] == "requests.cpu", ref
            env[var["name"]] = str(requests["cpu"])
    status = {"image": container["image"], "logs": [], "condition": "Complete", "pods": [], "failedIndexes": []}
    failures = 0
    for index in range(completions):
        index_failures = 0
        while True:
            env["JOB_COMPLETION_INDEX"] = str(index)
            done = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)
            pod_name = f"{name}-{index}-{len(status['pods'])}"
            status["pods"].append({"name": pod_name, "exit": done.returncode})
            status["logs"] += [f"[pod/{pod_name}/{container['name']}] {line}"
                               for line in (done.stdout + done.stderr).splitlines()]
            if done.returncode == 0:
                break
            failures += 1
            index_failures += 1
            # FailJob ends the job and its other pods at once; an index out of retries fails alone.
            if done.returncode in fail_job or failures > backoff:
                status["condition"] = "Failed"
                return status
            if done.returncode in fail_index or (per_index is not None and index_failures > int(per_index)):
                status["failedIndexes"].append(index)
                break
    if status["failedIndexes"]:
        status["condition"] = "Failed"
    return status


def ranges(indexes):
    """Kubernetes' failedIndexes format: 1,3-5."""
    out = []
    for i in indexes:
        if out and out[-1][1] == i - 1:
            out[-1][1] = i
        else:
            out.append([i, i])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in out)


def apply(documents):
    for doc in documents:
        if doc is None:
            continue
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind == "ConfigMap":
            shutil.rmtree(STUDY, ignore_errors=True)
            os.makedirs(STUDY)
            for key, text in doc.get("data", {}).items():
                with open(os.path.join(STUDY, key), "w") as f:
                    f.write(text)
            print(f"configmap/{name} configured")
        elif kind == "Job":
            if load_job(name) is not None:
                die(f'jobs.batch "{name}" already exists: field is immutable')
            os.makedirs(RESULTS, exist_ok=True)
            os.makedirs(JOBS, exist_ok=True)
            status = run_job(doc)
            with open(job_path(name), "w") as f:
                json.dump(status, f)
            print(f"job.batch/{name} created")
        else:
            die(f"the stand-in cannot apply a {kind}")


def wait(args):
    condition = take(args, "--for")
    take(args, "--timeout")
    (target,) = args
    kind, name = target.split("/", 1)
    if kind == "pod":
        return 0
    job = load_job(name)
    wanted = {"condition=complete": "Complete", "condition=failed": "Failed"}[condition]
    if job is not None and job["condition"] == wanted:
        return 0
    # As kubectl does, wait for a condition that does not hold (until run.sh kills it).
    time.sleep(60)
    return 1


def main():
    args = sys.argv[1:]
    with open(os.path.join(STATE, "calls.log"), "a") as log:
        log.write(json.dumps(args) + "\n")
    take(args, "--namespace")
    verb, args = args[0], args[1:]
    if verb == "get" and args[:1] == ["pvc"]:
        return 0 if args[1:] == ["termsim-results"] else 1
    if verb == "get" and args[:1] == ["job"]:
        job = load_job(args[1])
        assert take(args, "-o") == "jsonpath={.status.failedIndexes}", args
        if job is None:
            die(f'jobs.batch "{args[1]}" not found')
        print(ranges(job["failedIndexes"]), end="")
        return 0
    if verb == "get" and args[:1] == ["pods"]:
        job = load_job(take(args, "-l").split("=", 1)[1])
        for pod in (job or {}).get("pods", []):
            print(pod["name"], "Failed" if pod["exit"] else "Succeeded", pod["exit"])
        return 0
    if verb == "logs":
        job = load_job(take(args, "-l").split("=", 1)[1])
        tail = int(take(args, "--tail") or -1)
        lines = (job or {}).get("logs", [])
        print("\n".join(lines[-tail:] if tail >= 0 else lines))
        return 0
    if verb == "create" and args[:2] == ["configmap", "termsim-study"]:
        data = {}
        for a in args[2:]:
            if a.startswith("--from-file="):
                spec = a.split("=", 1)[1]
                key, path = spec.split("=", 1) if "=" in spec else (os.path.basename(spec), spec)
                with open(path) as f:
                    data[key] = f.read()
        assert "--dry-run=client" in args and "yaml" in args, args
        yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "termsim-study"}, "data": data}, sys.stdout)
        return 0
    if verb == "apply":
        assert args == ["-f", "-"], args
        apply(yaml.safe_load_all(sys.stdin))
        return 0
    if verb == "delete":
        kind = args[0]
        names = [a for a in args[1:] if not a.startswith("-")]
        if kind == "job":
            for name in names:
                if os.path.exists(job_path(name)):
                    os.remove(job_path(name))
        return 0
    if verb == "wait":
        return wait(args)
    if verb == "run":
        return 0
    if verb == "cp":
        source, dest = args
        pod, path = source.split(":", 1)
        assert pod == "termsim-fetch" and re.match(r"^/results/", path), source
        shutil.copytree(in_container(path), dest)
        return 0
    die(f"the stand-in does not know kubectl {' '.join(sys.argv[1:])}")


sys.exit(main())
