#!/usr/bin/env bash
# The life of a sharded termsim sweep on Slurm: submit the shards and the merge, watch them,
# re-run a failed shard, merge. See deploy/README.md.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: deploy/slurm/submit.sh SWEEP.json N [options] [-- SBATCH_OPTION...]

Runs the sweep as N shards (a job array of sweep.sbatch; task K runs shard K of N) and queues
merge.sbatch after them; Slurm cancels the merge if a shard fails.

  N                   number of shards; give the same N to every later command of the study
  --shards-dir DIR    shard-1..shard-N, logs/ and the study's record (default results/shards/NAME)
  --out DIR           the merged results (default results/sweeps/NAME, as an unsharded sweep)
  --cpus C            CPUs per shard, default 1 (termsim runs C rows at once)
  --mem SIZE          memory per shard (sbatch --mem), default: the partition's
  --time LIMIT        time limit per shard (sbatch --time), default: the partition's
  --rerun K[,K...]    run only these shards again (they must be missing), then the merge
  --merge-only        queue only the merge (every shard must be there)
  --status            show which shards are done, queued, running or missing; submit nothing
  -- OPTION...        passed to sbatch for every job: -- --partition=compute --account=proj

Logs: DIR/logs/sweep-JOB_K.out and DIR/logs/merge-JOB.out (DIR = --shards-dir).
EOF
    exit 2
}
fail() { echo "error: $*" >&2; exit 2; }
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

(( $# >= 2 )) || usage
case $1 in -h|--help) usage ;; esac
sweep_arg=$1 n=$2
shift 2
[[ $n =~ ^[1-9][0-9]*$ ]] || fail "N (the number of shards) must be a positive integer, got '$n'"
[[ -f $sweep_arg ]] || fail "no sweep file $sweep_arg"
name=$(basename "$sweep_arg" .json)

shards_dir=results/shards/$name out=results/sweeps/$name
cpus=1 mem='' time_limit='' rerun='' mode=submit
extra=()
need() { (( $# >= 2 )) && [[ -n $2 ]] || fail "$1 needs a value"; }
while (( $# )); do
    case $1 in
        --shards-dir) need "$@"; shards_dir=$2; shift 2 ;;
        --out) need "$@"; out=$2; shift 2 ;;
        --cpus) need "$@"; cpus=$2; shift 2 ;;
        --mem) need "$@"; mem=$2; shift 2 ;;
        --time) need "$@"; time_limit=$2; shift 2 ;;
        --rerun) need "$@"; rerun=$2; mode=rerun; shift 2 ;;
        --merge-only) mode=merge; shift ;;
        --status) mode=status; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) usage ;;
        *) fail "unknown option $1 (sbatch options go after --; see --help)" ;;
    esac
done
[[ $cpus =~ ^[1-9][0-9]*$ ]] || fail "--cpus must be a positive integer, got '$cpus'"

# Absolute paths, so the jobs do not depend on the directory they start in.
sweep=$(abs "$sweep_arg") shards_dir=$(abs "$shards_dir") out=$(abs "$out")
record=$shards_dir/study.txt   # what was submitted: the study's identity and its job ids
logs=$shards_dir/logs

# A later command must name the same study: another N or sweep would merge into nonsense, and
# only after the cluster time is spent.
if [[ -f $record ]]; then
    was_sweep=$(sed -n 's/^sweep //p' "$record") was_n=$(sed -n 's/^shards //p' "$record")
    [[ $was_sweep == "$sweep" ]] || fail "$shards_dir holds shards of $was_sweep, not $sweep"
    [[ $was_n == "$n" ]] || fail "$shards_dir holds a study of N=$was_n shards, not $n: give N=$was_n"
elif [[ $mode != submit ]] && ! compgen -G "$shards_dir/shard-*" >/dev/null; then
    fail "$shards_dir holds no study (submit it first: $0 $sweep_arg $n)"
fi
recorded_jobs() { [[ -f $record ]] && sed -n 's/^job \([0-9]*\) .*/\1/p' "$record" || true; }

# Jobs of this study still in the queue, one line per array task: ID TASK STATE REASON.
queued() {
    local ids
    ids=$(recorded_jobs | paste -sd' ')
    [[ -n $ids ]] || return 0
    squeue -h -r -o '%F %K %T %r' | awk -v ids=" $ids " 'index(ids, " " $1 " ")'
}

if [[ $mode == status ]]; then
    echo "study: $sweep, $n shards in $shards_dir"
    q=$(queued)
    todo=()
    for (( k = 1; k <= n; k++ )); do
        job=$(awk -v k="$k" '$2 == k { print $1 "_" k " " $3 " (" $4 ")"; exit }' <<<"$q")
        if [[ -d $shards_dir/shard-$k ]]; then echo "shard $k: done"
        elif [[ -n $job ]]; then echo "shard $k: job $job"
        else echo "shard $k: missing, not queued"; todo+=("$k"); fi
    done
    awk '$2 == "N/A" { print "merge: job " $1 " " $3 " (" $4 ")" }' <<<"$q"
    if [[ -f $out/sweep.csv ]]; then echo "merged results: $out"; fi
    if (( ${#todo[@]} )); then
        echo "failed shards: see $logs/sweep-*_K.out; re-run them with:"
        echo "  $0 $sweep_arg $n --rerun $(IFS=,; echo "${todo[*]}") [the same --shards-dir/--out/--cpus/--mem/--time/-- options]"
    fi
    exit 0
fi

command -v sbatch >/dev/null || fail "sbatch is not on PATH (run this on a Slurm login node)"
command -v termsim >/dev/null || echo "warning: termsim is not on PATH here; it must be on the compute nodes" >&2

shard_opts=(--cpus-per-task="$cpus")
[[ -n $mem ]] && shard_opts+=(--mem="$mem")
[[ -n $time_limit ]] && shard_opts+=(--time="$time_limit")

case $mode in
    submit)
        # Stale shard folders would make the merge fail only after the whole array ran.
        if compgen -G "$shards_dir/shard-*" >/dev/null; then
            fail "$shards_dir already holds shard-* folders: re-run missing ones with --rerun, or remove them"
        fi
        array=1-$n ;;
    rerun)
        [[ $rerun =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || fail "--rerun takes shard numbers like 2 or 2,5, got '$rerun'"
        IFS=, read -ra ks <<<"$rerun"
        for k in "${ks[@]}"; do
            (( k <= n )) || fail "there is no shard $k of $n"
            # A complete shard is never overwritten: that is how good results get lost.
            [[ ! -d $shards_dir/shard-$k ]] || fail "shard $k is complete ($shards_dir/shard-$k); remove it first to run it again"
        done
        still=$(queued | awk '$2 != "N/A"')
        [[ -z $still ]] || fail "shards of this study are still queued or running; wait for them (squeue) before a re-run:
$still"
        array=$rerun ;;
    merge) array='' ;;
esac

mkdir -p "$logs"
if [[ ! -f $record ]]; then printf 'sweep %s\nshards %s\n' "$sweep" "$n" >"$record"; fi

sweep_cmd=(sbatch --parsable --export=ALL --output="$logs/sweep-%A_%a.out" "${shard_opts[@]}" ${extra[@]+"${extra[@]}"})
merge_cmd=(sbatch --parsable --export=ALL --output="$logs/merge-%j.out" --kill-on-invalid-dep=yes ${extra[@]+"${extra[@]}"})

dependency=()
if [[ -n $array ]]; then
    # A request no node can meet is accepted by Slurm and then pends forever (Reason
    # PartitionConfig); --test-only asks the controller first and fails loudly instead.
    if ! why=$(sbatch --test-only "${shard_opts[@]}" ${extra[@]+"${extra[@]}"} --wrap=true 2>&1); then
        fail "Slurm cannot run a shard with these resources (--cpus $cpus${mem:+ --mem $mem}${time_limit:+ --time $time_limit}${extra[*]:+ -- ${extra[*]}}):
$why
lower --cpus/--mem/--time, or choose a partition with larger nodes (-- --partition=NAME)"
    fi
    array_id=$("${sweep_cmd[@]}" --array="$array" "$here/sweep.sbatch" "$sweep" "$shards_dir" "$n")
    array_id=${array_id%%;*}   # --parsable prints "id" or "id;cluster"
    echo "job $array_id sweep $array" >>"$record"
    echo "shards $array of $n: job array $array_id -> $shards_dir/shard-K"
    dependency=(--dependency="afterok:$array_id")
fi
merge_id=$("${merge_cmd[@]}" ${dependency[@]+"${dependency[@]}"} "$here/merge.sbatch" "$shards_dir" "$n" "$out")
merge_id=${merge_id%%;*}
echo "job $merge_id merge" >>"$record"
echo "merge: job $merge_id${array:+ (after $array_id; cancelled by Slurm if a shard fails)} -> $out"
echo "logs:  $logs/"
echo "watch: $0 $sweep_arg $n --status --shards-dir $shards_dir --out $out"
