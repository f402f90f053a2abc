#!/usr/bin/env bash
# Stands up a private single-node Slurm cluster (munged, slurmctld, slurmd; no systemd, config in
# a temporary folder, free ports) and runs deploy/slurm/ on it the way deploy/README.md says:
#   1. submit.sh with N = 3; the merged folder must equal the unsharded sweep byte for byte;
#   2. a shard that fails (N = 4): Slurm must cancel the merge, --status must name the shard,
#      and `submit.sh --rerun` of that one shard must then merge to the same bytes;
#   3. shards asking for more CPUs than the node has: submit.sh must refuse, not queue forever;
#   4. sweep.sbatch submitted by hand without its arguments: the job must fail, not run a default.
# It stops only the daemons it started, by PID, on success, failure or interrupt.
#
# Usage (from anywhere, as root):
#   bash deploy/slurm/test-cluster.sh [SWEEP.json]
#   bash deploy/slurm/test-cluster.sh -- COMMAND...   runs COMMAND on the private cluster instead
#       of the checks (SLURM_CONF set, termsim on PATH, from the repository root), e.g.
#       `-- bash` for a shell in which to follow deploy/README.md

# Env: CPUS (the node's CPUs, default 2), KEEP=1 keeps the temporary folder (logs, results).
# Installs Debian's slurm-wlm and munge if they are missing (apt-get; needs root).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
command=()
if [[ ${1:-} == -- ]]; then shift; command=("$@"); (( ${#command[@]} )) || { echo "usage: $0 -- COMMAND..." >&2; exit 2; }; fi
sweep=${1:-scenarios/sweeps/rate-limit-vs-strategy.json}
(( ${#command[@]} )) && sweep=scenarios/sweeps/rate-limit-vs-strategy.json
cpus=${CPUS:-2}

say() { printf '[slurm-test %s] %s\n' "$(date +%T)" "$*"; }
die() { say "FAILED: $*"; exit 1; }

# --- Slurm and munge from Debian's packages --------------------------------------------------
# slurmd must be root to start jobs, and munged's key must belong to whoever runs it.
(( EUID == 0 )) || die "run this as root (slurmd starts the jobs; in a container, root is the norm)"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
    say "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
say "$(slurmctld -V), munge $(munged -V 2>&1 | awk '{ print $1; exit }')"

say "building termsim"
cargo build --release --quiet
bin=$repo/target/release

# --- the private cluster ---------------------------------------------------------------------
tmp=$(mktemp -d /tmp/termsim-slurm.XXXXXX)
# munged refuses a socket whose folders are not all world-executable (mktemp makes 0700).
chmod 755 "$tmp"
pids=()   # the daemons started here, in start order
conf=$tmp/slurm.conf

stop() {
    local rc=$? pid i
    trap - EXIT INT TERM
    # Jobs first, so no job step outlives its slurmd; only jobs of this private cluster exist.
    if [[ -n ${SLURM_CONF:-} ]] && (( ${#pids[@]} >= 2 )); then
        scancel --quiet --full $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
        for (( i = 0; i < 20; i++ )); do
            [[ -z $(squeue -h 2>/dev/null) ]] && break
            sleep 0.5
        done
    fi
    for (( i = ${#pids[@]} - 1; i >= 0; i-- )); do kill "${pids[i]}" 2>/dev/null || true; done
    for pid in ${pids[@]+"${pids[@]}"}; do
        for (( i = 0; i < 20; i++ )); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if (( rc != 0 )); then
        for f in "$tmp"/log/*.log; do [[ -f $f ]] && { say "--- tail of $f"; tail -n 15 "$f"; }; done
    fi
    # Kept after a failure, for its logs; an interrupt or success leaves nothing behind.
    if [[ -n ${KEEP:-} ]] || (( rc != 0 && rc < 128 )); then say "kept $tmp"; else rm -rf "$tmp"; fi
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$tmp"/{munge,state,spool,log}
chmod 755 "$tmp/munge"
mungekey --create --keyfile="$tmp/munge/munge.key"
munged --foreground --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.socket" \
    --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" \
    --seed-file="$tmp/munge/munged.seed" >/dev/null 2>&1 &
pids+=($!)
for (( i = 0; i < 40; i++ )); do [[ -S $tmp/munge/munge.socket ]] && break; sleep 0.25; done
[[ -S $tmp/munge/munge.socket ]] || die "munged did not create its socket"

read -r ctld_port slurmd_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
# slurmctld only runs on the host SlurmctldHost names; the node's own name can be anything.
host=$(uname -n) host=${host%%.*}
node=termsim-node
cat >"$conf" <<EOF
ClusterName=termsim-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
# No cgroups in a container.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MailProg=/bin/true
# There is no sacct: finished jobs must stay readable by scontrol until the test ends.
MinJobAge=86400
ReturnToService=2
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerParameters=sched_interval=1,bf_interval=1
# Lets the node declare CPUS CPUs whatever the machine has.
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld -D -f "$conf" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$conf" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
for (( i = 0; i < 60; i++ )); do
    [[ $(sinfo -h -n "$node" -o %T 2>/dev/null) == idle ]] && break
    sleep 0.5
done
[[ $(sinfo -h -n "$node" -o %T 2>/dev/null) == idle ]] || die "the node did not come up: $(sinfo 2>&1)"
say "cluster up: $host:$ctld_port, node $node with $cpus CPUs, pids ${pids[*]}, folder $tmp"

# --- helpers ---------------------------------------------------------------------------------
job_state() { scontrol -o show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
job_field() { scontrol -o show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# Waits until job $1 has ended; prints its final state.
wait_job() {
    local state i
    for (( i = 0; i < 600; i++ )); do
        state=$(job_state "$1")
        case $state in PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|'') sleep 0.5 ;;
            *) echo "$state"; return 0 ;; esac
    done
    die "job $1 still ${state:-unknown} after 300 s: $(squeue 2>&1)"
}
merge_job() { sed -n 's/^job \([0-9]*\) merge$/\1/p' "$1/study.txt" | tail -n 1; }
export PATH=$bin:$PATH

if (( ${#command[@]} )); then
    say "running ${command[*]} (SLURM_CONF=$SLURM_CONF)"
    "${command[@]}"
    exit
fi

say "reference: the unsharded sweep"
termsim sweep "$sweep" --out "$tmp/whole" -q

# --- 1. N = 3, with a site that does not pass the environment on by default ------------------
say "1. submit.sh with N = 3"
before=$(git status --porcelain --ignored)
SBATCH_EXPORT=NONE deploy/slurm/submit.sh "$sweep" 3 --shards-dir "$tmp/n3/shards" --out "$tmp/n3/merged"
merge=$(merge_job "$tmp/n3/shards")
state=$(wait_job "$merge")
[[ $state == COMPLETED ]] || die "merge job $merge ended $state; log: $(cat "$tmp"/n3/shards/logs/merge-*.out)"
diff -r "$tmp/whole" "$tmp/n3/merged" || die "N = 3: merged results differ from the unsharded sweep"
for k in 1 2 3; do
    compgen -G "$tmp/n3/shards/logs/sweep-*_$k.out" >/dev/null || die "no log of shard $k in shards/logs/"
done
[[ $(git status --porcelain --ignored) == "$before" ]] || die "the study wrote into the checkout:
$(diff <(echo "$before") <(git status --porcelain --ignored))"
say "1. ok: merged == unsharded, logs in shards/logs/, nothing written to the checkout"

# --- 2. a failing shard, then its re-run (N = 4) ---------------------------------------------
say "2. a failing shard (2 of 4)"
mkdir -p "$tmp/wrap"
cat >"$tmp/wrap/termsim" <<EOF
#!/bin/sh
# Shard 2 of 4 fails while $tmp/fail-shard-2 exists, as a crashed node or a killed task would.
case " \$* " in *" --shard 2/4 "*) if [ -e "$tmp/fail-shard-2" ]; then echo "injected failure" >&2; exit 1; fi ;; esac
exec "$bin/termsim" "\$@"
EOF
chmod +x "$tmp/wrap/termsim"
touch "$tmp/fail-shard-2"
PATH=$tmp/wrap:$PATH deploy/slurm/submit.sh "$sweep" 4 --shards-dir "$tmp/n4/shards" --out "$tmp/n4/merged"
merge=$(merge_job "$tmp/n4/shards")
state=$(wait_job "$merge")
[[ $state == CANCELLED ]] || die "after a failed shard the merge job $merge ended $state, not CANCELLED"
[[ ! -e $tmp/n4/merged ]] || die "a merge was written although shard 2 failed"
for k in 1 3 4; do [[ -d $tmp/n4/shards/shard-$k ]] || die "shard $k is missing"; done
[[ ! -e $tmp/n4/shards/shard-2 ]] || die "the failed shard left a folder"
grep -q "injected failure" "$tmp"/n4/shards/logs/sweep-*_2.out || die "shard 2's log does not show its failure"
status=$(deploy/slurm/submit.sh "$sweep" 4 --shards-dir "$tmp/n4/shards" --out "$tmp/n4/merged" --status)
echo "$status"
grep -q "shard 2: missing, not queued" <<<"$status" || die "--status does not name shard 2 as missing"
grep -q -- "--rerun 2 " <<<"$status" || die "--status does not give the re-run command"
rm "$tmp/fail-shard-2"
# Re-running a complete shard would overwrite good results: refused.
if deploy/slurm/submit.sh "$sweep" 4 --shards-dir "$tmp/n4/shards" --out "$tmp/n4/merged" --rerun 3 2>/dev/null; then
    die "--rerun of a complete shard was accepted"
fi
# Another N than the study's: refused before anything runs.
if deploy/slurm/submit.sh "$sweep" 3 --shards-dir "$tmp/n4/shards" --out "$tmp/n4/merged" --rerun 2 2>/dev/null; then
    die "--rerun with another N was accepted"
fi
say "2. re-running shard 2 alone"
PATH=$tmp/wrap:$PATH deploy/slurm/submit.sh "$sweep" 4 --shards-dir "$tmp/n4/shards" --out "$tmp/n4/merged" --rerun 2
merge=$(merge_job "$tmp/n4/shards")
state=$(wait_job "$merge")
[[ $state == COMPLETED ]] || die "merge job $merge after the re-run ended $state; log: $(cat "$tmp"/n4/shards/logs/merge-"$merge".out)"
diff -r "$tmp/whole" "$tmp/n4/merged" || die "after the re-run, merged results differ from the unsharded sweep"
say "2. ok: merge cancelled by Slurm, shard 2 re-run alone, merged == unsharded"

# --- 3. resources no node has ----------------------------------------------------------------
say "3. shards asking for $((cpus * 2)) CPUs on a $cpus-CPU node"
jobs_before=$(squeue -h | wc -l)
if out=$(deploy/slurm/submit.sh "$sweep" 2 --cpus $((cpus * 2)) --shards-dir "$tmp/big/shards" --out "$tmp/big/merged" 2>&1); then
    die "submit.sh accepted shards no node can run: $out"
fi
echo "$out"
grep -q -- "--cpus" <<<"$out" || die "the refusal does not say which option to change"
[[ $(squeue -h | wc -l) == "$jobs_before" ]] || die "jobs were queued although submit.sh refused"
say "3. ok: refused with a message"

# --- 4. by hand, without the arguments -------------------------------------------------------
say "4. sweep.sbatch by hand without SWEEP, SHARDS and N"
id=$(cd "$tmp" && sbatch --parsable --array=1 --output="$tmp/byhand-%A_%a.out" "$repo/deploy/slurm/sweep.sbatch")
id=${id%%;*}
state=$(wait_job "$id")
[[ $state == FAILED ]] || die "sweep.sbatch without arguments ended $state, not FAILED"
grep -q "usage: sbatch --array" "$tmp"/byhand-"$id"_1.out || die "no usage message in the job's log"
say "4. ok: the job failed with its usage"

say "all passed"
