#!/usr/bin/env bash
# Runs a termsim sweep on Kubernetes: one pod per shard (sweep-indexed-job.yaml), then the
# merge (merge-job.yaml) into /results/merged on the PersistentVolumeClaim `termsim-results`.
#
# Usage: deploy/kubernetes/run.sh SWEEP.json N [options]
#   N                   number of shards; give the same N to a later --rerun or --merge-only
#   --cpus C            CPUs per shard pod (default 1; termsim runs C rows at once)
#   --parallelism P     shard pods at once (default N)
#   --rerun K[,K...]    run only these shards again (missing after a failure), then the merge
#   --merge-only        apply only the merge
#   --copy-to DIR       copy the merged results to DIR afterwards (through a helper pod)
# Environment:
#   IMAGE          termsim image (default registry.example.com/termsim:latest, see deploy/Dockerfile)
#   NAMESPACE      namespace (default: the current context's)
#   TIMEOUT        how long the sweep may take (default 6h); MERGE_TIMEOUT for the merge (30m)
# Needs kubectl, python3 or jq, and the PVC `termsim-results` (see deploy/README.md).
set -euo pipefail

usage() {
    sed -n 's/^# \{0,1\}//; /^Usage:/,/^Needs/p' "${BASH_SOURCE[0]}" >&2
    exit 2
}
fail() { echo "error: $*" >&2; exit 2; }
(( $# >= 2 )) || usage
case $1 in -h|--help) usage ;; esac
sweep=$1 n=$2
shift 2
[[ $n =~ ^[1-9][0-9]*$ ]] || fail "N (the number of shards) must be a positive integer, got '$n'"
[[ -f $sweep ]] || fail "no sweep file $sweep"
cpus=1 parallelism=$n rerun='' mode=run dest=''
need() { (( $# >= 2 )) && [[ -n $2 ]] || fail "$1 needs a value"; }
while (( $# )); do
    case $1 in
        --cpus) need "$@"; cpus=$2; shift 2 ;;
        --parallelism) need "$@"; parallelism=$2; shift 2 ;;
        --rerun) need "$@"; rerun=$2; mode=rerun; shift 2 ;;
        --merge-only) mode=merge; shift ;;
        --copy-to) need "$@"; dest=$2; shift 2 ;;
        -h|--help) usage ;;
        *) fail "unknown argument $1 (see --help)" ;;
    esac
done
[[ $cpus =~ ^[1-9][0-9]*$ ]] || fail "--cpus must be a positive integer, got '$cpus'"
[[ $parallelism =~ ^[1-9][0-9]*$ ]] || fail "--parallelism must be a positive integer, got '$parallelism'"
pods=$n
if [[ $mode == rerun ]]; then
    [[ $rerun =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || fail "--rerun takes shard numbers like 2 or 2,5, got '$rerun'"
    IFS=, read -ra ks <<<"$rerun"
    for k in "${ks[@]}"; do (( k <= n )) || fail "there is no shard $k of $n"; done
    pods=${#ks[@]}
    (( parallelism <= pods )) || parallelism=$pods
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=${IMAGE:-registry.example.com/termsim:latest}
TIMEOUT=${TIMEOUT:-6h}
MERGE_TIMEOUT=${MERGE_TIMEOUT:-30m}
ns=(); if [[ -n ${NAMESPACE:-} ]]; then ns=(--namespace "$NAMESPACE"); fi
k() { kubectl ${ns[@]+"${ns[@]}"} "$@"; }
# The manifests with this study's values: the image, N, the pods, the shard list, the CPUs.
manifest() {
    sed -e "s|registry.example.com/termsim:latest|$IMAGE|g" \
        -e "s|^  completions: [0-9]*|  completions: $pods|" \
        -e "s|^  parallelism: [0-9]*|  parallelism: $parallelism|" \
        -e "/name: SHARDS_TOTAL/{n;s|value: .*|value: \"$n\"|;}" \
        -e "/name: SHARD_LIST/{n;s|value: .*|value: \"$rerun\"|;}" \
        -e "s|cpu: \"[0-9]*\"$|cpu: \"$1\"|" "$here/$2"
}

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

# 3. The shards: one pod per shard, each writing /results/shard-K (only the listed ones for
#    --rerun). The jobs of an earlier run go first, waiting for their pods (they write the volume).
k delete job termsim-sweep termsim-merge --ignore-not-found --cascade=foreground --wait=true
if [[ $mode != merge ]]; then
    manifest "$cpus" sweep-indexed-job.yaml | k apply -f -
    echo "waiting for job/termsim-sweep: shards ${rerun:-1-$n} of $n (at most $TIMEOUT; pods: kubectl get pods -l job-name=termsim-sweep)"
    wait_job termsim-sweep "$TIMEOUT" || {
        # status.failedIndexes ("1,3-5") holds the pod indexes that failed; index i ran shard
        # i+1, or the i-th shard of --rerun's list.
        failed=$(k get job termsim-sweep -o 'jsonpath={.status.failedIndexes}' 2>/dev/null || true)
        shards=()
        if [[ $mode == rerun ]]; then IFS=, read -ra listed <<<"$rerun"; fi
        for range in ${failed//,/ }; do
            for (( i = ${range%-*}; i <= ${range#*-}; i++ )); do
                if [[ $mode == rerun ]]; then shards+=("${listed[i]}"); else shards+=($((i + 1))); fi
            done
        done
        if (( ${#shards[@]} )); then
            echo "shards that failed: $(IFS=,; echo "${shards[*]}"); once their cause is fixed (logs above), re-run them with:" >&2
            echo "  $0 $sweep $n --rerun $(IFS=,; echo "${shards[*]}")" >&2
        else
            echo "fix the cause (logs above), then run the study again, or re-run missing shards with: $0 $sweep $n --rerun K[,K...]" >&2
        fi
        exit 1
    }
fi

# 4. The merge of shard-1..shard-N, into /results/merged.
manifest 1 merge-job.yaml | k apply -f -
wait_job termsim-merge "$MERGE_TIMEOUT"
echo "merged results: /results/merged on PVC termsim-results"

# 5. Optionally copy them out, through a pod that mounts the volume (kubectl cp needs a running pod).
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
