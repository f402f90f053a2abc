#!/usr/bin/env bash
# Submits a sharded termsim sweep to Slurm: an array job (sweep.sbatch, one shard per task)
# and a merge job (merge.sbatch) that starts once every task succeeded.
#
# Usage: deploy/slurm/submit.sh SWEEP.json [SHARDS] [OUT]
#   SHARDS  folder for the shard-K/ folders (default results/shards/<sweep file name>)
#   OUT     folder for the merged results   (default results/sweeps/<sweep file name>)
# Environment: N = number of shards (default 8). Other sbatch options via sbatch's own
# variables, e.g. SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT.
# All paths must be on a filesystem shared with the compute nodes; termsim must be on PATH there.
set -euo pipefail

usage() { echo "usage: $0 SWEEP.json [SHARDS] [OUT]   (env: N=number of shards, default 8)" >&2; exit 2; }
(( $# >= 1 && $# <= 3 )) || usage
case $1 in -h|--help) usage ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
abs() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

N=${N:-8}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "error: N must be a positive integer, got '$N'" >&2; exit 2; }
[[ -f $1 ]] || { echo "error: no sweep file $1" >&2; exit 2; }
name=$(basename "$1" .json)
# Absolute paths, so the jobs do not depend on the directory they start in.
SWEEP=$(abs "$1")
SHARDS=$(abs "${2:-results/shards/$name}")
OUT=$(abs "${3:-results/sweeps/$name}")
export SWEEP SHARDS OUT   # passed on to the jobs by sbatch --export=ALL below

# Shard folders left by an earlier run would make the merge fail (duplicated rows) only after
# the whole array ran: refuse now instead.
if compgen -G "$SHARDS/shard-*" >/dev/null; then
    echo "error: $SHARDS already holds shard-* folders; remove them or pick another SHARDS" >&2
    exit 2
fi
command -v termsim >/dev/null || echo "warning: termsim is not on PATH here; it must be on the compute nodes" >&2

# The array job; --parsable prints "jobid" or "jobid;cluster".
array_id=$(sbatch --parsable --export=ALL --array="1-$N" "$here/sweep.sbatch")
array_id=${array_id%%;*}
# The merge waits for every array task to succeed; if one fails, Slurm cancels it.
merge_id=$(sbatch --parsable --export=ALL --dependency="afterok:$array_id" --kill-on-invalid-dep=yes "$here/merge.sbatch")
merge_id=${merge_id%%;*}

echo "sweep:  $SWEEP"
echo "array job $array_id: $N shards -> $SHARDS/shard-{1..$N}"
echo "merge job $merge_id (after $array_id) -> $OUT"
echo "watch with: squeue -j $array_id,$merge_id"
