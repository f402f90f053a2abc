#!/usr/bin/env bash
# Runs a termsim sweep on Kubernetes: one pod per shard (sweep-indexed-job.yaml), then the
# merge (merge-job.yaml) into /results/merged on the PersistentVolumeClaim `termsim-results`.
#
# Usage: deploy/kubernetes/run.sh SWEEP.json [LOCAL_DIR]
#   LOCAL_DIR  if given, the merged results are copied there afterwards (through a helper pod)
# Environment:
#   IMAGE          termsim image (default registry.example.com/termsim:latest, see deploy/Dockerfile)
#   NAMESPACE      namespace (default: the current context's)
#   TIMEOUT        how long the sweep may take (default 6h); MERGE_TIMEOUT for the merge (30m)
# Needs kubectl, python3 or jq, and the PVC `termsim-results` (see deploy/README.md).
set -euo pipefail

usage() { echo "usage: $0 SWEEP.json [LOCAL_DIR]" >&2; exit 2; }
(( $# >= 1 && $# <= 2 )) || usage
case $1 in -h|--help) usage ;; esac
sweep=$1 dest=${2:-}
[[ -f $sweep ]] || { echo "error: no sweep file $sweep" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=${IMAGE:-registry.example.com/termsim:latest}
TIMEOUT=${TIMEOUT:-6h}
MERGE_TIMEOUT=${MERGE_TIMEOUT:-30m}
ns=(); if [[ -n ${NAMESPACE:-} ]]; then ns=(--namespace "$NAMESPACE"); fi
k() { kubectl ${ns[@]+"${ns[@]}"} "$@"; }
# The manifests, with the image placeholder replaced by $IMAGE.
manifest() { sed "s|registry.example.com/termsim:latest|$IMAGE|g" "$here/$1"; }

# The files the sweep reads besides itself: its base scenario (relative to the sweep file),
# then the CSV files of empirical distributions (relative to the base scenario).
study_files() {
    if command -v python3 >/dev/null; then
        python3 - "$1" <<'PY'
import json, os, sys
def csvs(v):
    if isinstance(v, dict):
        e = v.get("empirical")
        if isinstance(e, dict) and isinstance(e.get("csv"), str):
            yield e["csv"]
        for x in v.values():
            yield from csvs(x)
    elif isinstance(v, list):
        for x in v:
            yield from csvs(x)
sweep = json.load(open(sys.argv[1]))
print(sweep["base"])
try:
    base = json.load(open(os.path.join(os.path.dirname(sys.argv[1]), sweep["base"])))
except (OSError, ValueError):
    base = {}  # reported below (missing) or by termsim (invalid)
print("\n".join(dict.fromkeys([*csvs(base), *csvs(sweep.get("vary", {}))])))
PY
    elif command -v jq >/dev/null; then
        local base
        base=$(jq -er .base "$1")
        echo "$base"
        jq -rn '[inputs | .. | objects | .empirical? | objects | .csv? | strings] | unique[]' \
            <(jq . "$(dirname "$1")/$base" 2>/dev/null || true) <(jq .vary "$1")
    else
        echo "error: run.sh needs python3 or jq to read $1" >&2; return 1
    fi
}

# Waits until job/$1 is complete (exit 0) or failed (exit 1, with the pods' last log lines),
# at most $2; watching for both conditions means a failed job does not block until the timeout.
wait_job() {
    local job=$1 timeout=$2 ok bad
    # (kubectl itself in the background, not the function k, so that $! is kubectl's pid)
    kubectl ${ns[@]+"${ns[@]}"} wait --for=condition=complete "job/$job" --timeout="$timeout" >/dev/null & ok=$!
    kubectl ${ns[@]+"${ns[@]}"} wait --for=condition=failed "job/$job" --timeout="$timeout" >/dev/null 2>&1 & bad=$!
    while kill -0 "$ok" 2>/dev/null && kill -0 "$bad" 2>/dev/null; do sleep 2; done
    if ! kill -0 "$ok" 2>/dev/null; then
        if wait "$ok"; then kill "$bad" 2>/dev/null || true; wait "$bad" 2>/dev/null || true; return 0; fi
    elif wait "$bad"; then
        kill "$ok" 2>/dev/null || true; wait "$ok" 2>/dev/null || true
    elif wait "$ok"; then
        return 0
    fi
    kill "$bad" 2>/dev/null || true; wait "$bad" 2>/dev/null || true
    echo "error: job/$job failed or timed out ($timeout)" >&2
    k get pods -l "job-name=$job" >&2 || true
    k logs -l "job-name=$job" --prefix --tail=20 >&2 || true
    return 1
}

# 1. The results volume must exist (its storage class is site-specific).
k get pvc termsim-results >/dev/null || {
    echo "error: create the PersistentVolumeClaim termsim-results first (deploy/README.md)" >&2; exit 2; }

# 2. The ConfigMap: the sweep under the key sweep.json, its base scenario and CSVs under their
#    own names, all in /study. A ConfigMap is flat, so they must sit next to the sweep file.
from_file=(--from-file="sweep.json=$sweep")
while IFS= read -r f; do
    [[ -n $f ]] || continue
    if [[ $f == */* || $f == sweep.json ]]; then
        echo "error: $sweep names '$f': put it next to the sweep file (a ConfigMap has no folders)" >&2
        exit 2
    fi
    [[ -f $(dirname "$sweep")/$f ]] || { echo "error: $sweep names '$f', which is not next to it" >&2; exit 2; }
    from_file+=(--from-file="$(dirname "$sweep")/$f")
done < <(study_files "$sweep")
k create configmap termsim-study "${from_file[@]}" --dry-run=client -o yaml | k apply -f -

# 3. Remove the jobs of an earlier run, waiting for their pods to go (they write to the volume).
k delete job termsim-sweep termsim-merge --ignore-not-found --cascade=foreground --wait=true

# 4. The shards: one pod per shard, each writing /results/shard-K.
manifest sweep-indexed-job.yaml | k apply -f -
echo "waiting for job/termsim-sweep (at most $TIMEOUT; pods: kubectl get pods -l job-name=termsim-sweep)"
wait_job termsim-sweep "$TIMEOUT"

# 5. The merge, into /results/merged.
manifest merge-job.yaml | k apply -f -
wait_job termsim-merge "$MERGE_TIMEOUT"
echo "merged results: /results/merged on PVC termsim-results"

# 6. Optionally copy them out, through a pod that mounts the volume (kubectl cp needs a running pod).
if [[ -n $dest ]]; then
    k delete pod termsim-fetch --ignore-not-found >/dev/null   # left by an interrupted run
    k run termsim-fetch --image="$IMAGE" --restart=Never --overrides='{"apiVersion":"v1","spec":{
        "containers":[{"name":"fetch","image":"'"$IMAGE"'","command":["sleep","3600"],
          "volumeMounts":[{"name":"results","mountPath":"/results","readOnly":true}]}],
        "volumes":[{"name":"results","persistentVolumeClaim":{"claimName":"termsim-results"}}]}}'
    trap 'k delete pod termsim-fetch --wait=false >/dev/null 2>&1 || true' EXIT
    k wait --for=condition=Ready pod/termsim-fetch --timeout=5m
    k cp termsim-fetch:/results/merged "$dest"
    echo "copied to $dest"
fi
