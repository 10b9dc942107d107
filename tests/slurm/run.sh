#!/usr/bin/env bash
# The SLURM profile on a real one-node cluster (root, Debian/Ubuntu).
#   tests/slurm/run.sh full    `make test-slurm`: the whole smoke pipeline (~10-16 min on 2 cores)
#   tests/slurm/run.sh short   `make test-slurm-short`, in CI: representative jobs (~5 min)
#
# Starts munged, slurmctld and slurmd on localhost from a temporary folder (own munge key and socket, free
# ports, no accounting database, no cgroups), then
#   full:  runs the smoke pipeline through profiles/slurm into TMP/slurm and the same pipeline locally into
#          TMP/local, and checks that every csv, md and npy the local run wrote exists in the SLURM run with the
#          same content (csv compared as numbers, md as text apart from the code version in captions; pdf/png
#          carry timestamps and are not compared);
#   short: pushes a Gaussian table, a data set, a training job and a metrics job (with what they need) of the
#          smoke configuration through profiles/slurm;
# and in both modes checks that every job ran as a SLURM job (squeue lists one COMPLETED job per rule job, each
# with its sbatch log), and that a job asking for more CPUs than the node has stops its run within two minutes
# with diffsched.infra.slurm_guard's message instead of pending forever.
# The whole test has a deadline (TIMEOUT seconds; default 3600 full, 600 short): past it, it stops and says in
# which step. The cluster is shut down and the folder removed on exit, also on failure (KEEP=1 keeps the folder).
# Environment: SNAKEMAKE (default .venv/bin/snakemake), PYTHON (default .venv/bin/python), TIMEOUT, KEEP.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
SMOKE=workflow/configs/smoke.yaml
MODE=${1:-full}
case "$MODE" in
    full) TIMEOUT=${TIMEOUT:-3600} ;;
    short) TIMEOUT=${TIMEOUT:-600} ;;
    *) echo "usage: $0 [full|short]" >&2; exit 2 ;;
esac
T0=$(date +%s)
DEADLINE=$((T0 + TIMEOUT))
STEP="starting"

# fds 3 and 4: the test's own stdout and stderr, also from inside a command's redirected output
exec 3>&1 4>&2
say() { echo "[test-slurm $MODE $(($(date +%s) - T0))s] $*" >&3; }
fail() { say "FAIL: $*"; exit 1; }
step() { STEP=$1; say "$1"; }
left() { echo $((DEADLINE - $(date +%s))); }
# run a command within what is left of the deadline; past it, fail naming the step
within() {
    local rc=0
    [ "$(left)" -gt 0 ] || fail "deadline of ${TIMEOUT}s passed before: $STEP"
    timeout --signal=INT --kill-after=30 "$(left)" "$@" || rc=$?
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        [ -n "${SLURM_CONF:-}" ] && { say "queue when stopped:"; squeue -o '%i %j %k %T %r' >&3 2>/dev/null || true; }
        fail "deadline of ${TIMEOUT}s passed during: $STEP"
    fi
    return "$rc"
}

# --- 1. the SLURM and munge daemons (Debian packages) -------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null \
    || ! command -v sbatch >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "slurmctld, slurmd, munge and slurm-client are missing; install them as root"
    step "installing slurmctld slurmd munge slurm-client with apt"
    within apt-get update -qq
    DEBIAN_FRONTEND=noninteractive within apt-get install -y -qq slurmctld slurmd munge slurm-client >/dev/null
fi
[ "$(id -u)" = 0 ] || fail "run as root: slurmd starts jobs and slurmctld runs with SlurmUser=root"

TMP=$(mktemp -d /tmp/diffsched-slurm.XXXXXX)
chmod 700 "$TMP"
PIDFILES=()
cleanup() {
    local rc=$?
    set +e
    exec 1>&3 2>&4
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then
        # cancel whatever is still queued or running in this cluster (nothing, after a passing run)
        squeue -h -o %i 2>/dev/null | xargs -r scancel 2>/dev/null
    fi
    for pidfile in "${PIDFILES[@]}"; do  # slurmd, slurmctld, munged: the daemons this script started
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null
    done
    sleep 1
    for pidfile in "${PIDFILES[@]}"; do
        [ -f "$pidfile" ] && kill -9 "$(cat "$pidfile")" 2>/dev/null
    done
    if [ "$rc" != 0 ]; then
        for log in "$TMP"/log/*.log; do [ -f "$log" ] && { echo "--- $log"; tail -n 20 "$log"; }; done
    fi
    if [ "${KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    say "cluster stopped; $([ "$rc" = 0 ] && echo PASSED || echo "FAILED (exit $rc) in step: $STEP")"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$TMP"/{munge,state,spool,log,slurm_logs}
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done

# munge: a fresh key and a private socket, so that other munge or SLURM instances on the host are not touched
dd if=/dev/urandom of="$TMP/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$TMP/munge/munge.key"
MUNGE_SOCKET=$TMP/munge/munge.socket
munged --force --key-file="$TMP/munge/munge.key" --socket="$MUNGE_SOCKET" --pid-file="$TMP/munge/munged.pid" \
    --log-file="$TMP/log/munged.log" --seed-file="$TMP/munge/munged.seed"
PIDFILES+=("$TMP/munge/munged.pid")

# the node as slurmd sees it (CPUs, memory), named localhost
read -r CPUS MEM < <(slurmd -C | "$PYTHON" -c '
import re, sys
text = sys.stdin.read()
print(re.search(r"CPUs=(\d+)", text)[1], re.search(r"RealMemory=(\d+)", text)[1])')

export SLURM_CONF=$TMP/slurm.conf
cat > "$SLURM_CONF" <<EOF
ClusterName=diffsched
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/log/slurmctld.log
SlurmdLogFile=$TMP/log/slurmd.log
# no cgroups (containers), no accounting database: squeue is the only job history,
# so finished jobs stay listed for an hour (MinJobAge) for snakemake's status polling
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF

# The jobstep plugin (0.6) strips SLURM_* variables, SLURM_CONF included, from the `srun` it runs inside each job;
# a real cluster has /etc/slurm/slurm.conf, this one gets an srun on PATH that knows where its config is.
mkdir -p "$TMP/bin"
printf '#!/bin/sh\nSLURM_CONF=%s exec %s "$@"\n' "$SLURM_CONF" "$(command -v srun)" > "$TMP/bin/srun"
chmod +x "$TMP/bin/srun"
export PATH=$TMP/bin:$PATH

step "starting slurmctld (port $CTLD_PORT) and slurmd (port $SLURMD_PORT): $CPUS CPUs, $MEM MB"
slurmctld -f "$SLURM_CONF"
PIDFILES+=("$TMP/slurmctld.pid")
slurmd -f "$SLURM_CONF" -N localhost
PIDFILES+=("$TMP/slurmd.pid")

for _ in $(seq 60); do
    state=$(sinfo -h -N -n localhost -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
[ "${state:-}" = idle ] || fail "node localhost is '${state:-not listed}', not idle, after 60 s"
say "node idle: $(sinfo -h -o '%P %D %t %c %m')"

# --- 2. the workflow through profiles/slurm (and, in full mode, locally) -------------------------------------------
# The profile as users run it; the flags are this test cluster's: no sacct (status from squeue), polling
# every 2 s instead of 10-40 s, sbatch logs kept for the checks below.
SLURM_FLAGS=(--slurm-status-command squeue --slurm-init-seconds-before-status-checks 2
             --seconds-between-status-checks 2 --slurm-logdir "$TMP/slurm_logs" --slurm-keep-successful-logs
             --slurm-delete-logfiles-older-than 0)
if [ "$MODE" = full ]; then
    TARGETS=()
else  # a Gaussian table, a data set, one training job, one metrics job (the Gaussian oracle's sweep cells)
    R=$TMP/slurm/results
    TARGETS=("$R/gaussian/lowdim/em_ratio.csv" "$R/data/cifar10/train.npz" "$R/train/cifar10/unet-with/model.pt"
             "$R/sweep/cifar10_lossless/gaussian/metrics.csv")
fi
step "smoke configuration through profiles/slurm (${#TARGETS[@]} targets; none: the whole pipeline)"
within "$SNAKEMAKE" --profile profiles/slurm --configfile "$SMOKE" "${SLURM_FLAGS[@]}" \
    --config results="$TMP/slurm/results" figures="$TMP/slurm/figures" -- "${TARGETS[@]}" \
    > "$TMP/log/snakemake_slurm.log" 2>&1 \
    || { tail -n 60 "$TMP/log/snakemake_slurm.log"; fail "snakemake --profile profiles/slurm failed"; }

if [ "$MODE" = full ]; then
    step "smoke pipeline locally"
    within "$SNAKEMAKE" --cores 2 --configfile "$SMOKE" \
        --config results="$TMP/local/results" figures="$TMP/local/figures" > "$TMP/log/snakemake_local.log" 2>&1 \
        || { tail -n 60 "$TMP/log/snakemake_local.log"; fail "local snakemake failed"; }
fi

# --- 3. the checks ---------------------------------------------------------------------------------------------
step "checking the SLURM job history$([ "$MODE" = full ] && echo " and comparing the two runs")"
squeue -h --states=all -o '%i|%T|%j|%k' > "$TMP/squeue.txt"
"$PYTHON" - "$TMP" "$MODE" <<'EOF'
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

tmp, mode = Path(sys.argv[1]), sys.argv[2]
local, slurm = tmp / "local", tmp / "slurm"
errors = []

# 1. every table (csv, md) and array (npy) of the local run, equal in the SLURM run
def tables(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.suffix in {".csv", ".md", ".npy"})

made_local, made_slurm = (tables(local), tables(slurm)) if mode == "full" else ([], [])
if mode == "full" and not made_local:
    errors.append("the local run wrote no csv/md/npy")
if made_local != made_slurm:
    errors.append(f"different files: only local {sorted(set(made_local) - set(made_slurm))}, "
                  f"only slurm {sorted(set(made_slurm) - set(made_local))}")
for rel in sorted(set(made_local) & set(made_slurm)):
    a, b = local / rel, slurm / rel
    try:
        if rel.suffix == ".csv":
            pd.testing.assert_frame_equal(pd.read_csv(a), pd.read_csv(b), check_exact=False, rtol=1e-12, atol=0)
        elif rel.suffix == ".npy":
            np.testing.assert_array_equal(np.load(a), np.load(b))
        else:  # md: the caption's code version (git commit, +dirty) may move if the checkout changes in between
            version = re.compile(r"diffsched [^,\s]+, git [0-9a-f]+(\+dirty)?")
            ta, tb = (version.sub("diffsched <version>", p.read_text()) for p in (a, b))
            if ta != tb:
                diff = [f"{x!r} != {y!r}" for x, y in zip(ta.splitlines(), tb.splitlines()) if x != y]
                raise AssertionError(f"text differs: {diff[:2]}")
    except AssertionError as err:
        errors.append(f"{rel}: {str(err)[:300]}")

# 2. every job went through SLURM: one COMPLETED job per rule job (Snakemake's job stats), each with its log
log = (tmp / "log" / "snakemake_slurm.log").read_text()
stats = dict(re.findall(r"^(\w+)\s+(\d+)$", log.split("Job stats:")[1].split("total")[0], re.M))
stats.pop("all", None)  # the target rule runs locally
jobs = [line.split("|") for line in (tmp / "squeue.txt").read_text().splitlines() if line]
completed = [j for j in jobs if j[1] == "COMPLETED"]
if len(completed) != len(jobs):
    errors.append(f"jobs not COMPLETED: {[j for j in jobs if j[1] != 'COMPLETED']}")
for rule, count in stats.items():
    ran = [j for j in completed if j[3] == f"rule_{rule}" or j[3].startswith(f"rule_{rule}_wildcards_")]
    logs = list((tmp / "slurm_logs" / f"rule_{rule}").rglob("*.log"))
    if len(ran) != int(count) or len(logs) != int(count):
        errors.append(f"{rule}: {count} jobs planned, {len(ran)} completed SLURM jobs, {len(logs)} sbatch logs")
if not stats or sum(map(int, stats.values())) != len(completed):
    errors.append(f"job stats {stats} do not account for the {len(completed)} completed SLURM jobs")

if errors:
    sys.exit("\n".join(["MISMATCH"] + errors))
print(f"{len(made_local)} tables equal; {len(completed)} SLURM jobs COMPLETED "
      f"({', '.join(f'{r} {n}' for r, n in stats.items())}), one sbatch log each")
EOF

# --- 4. a job the node can never run stops its run within two minutes, with the guard's message ------------------
step "a job asking for $((CPUS * 2)) CPUs on a $CPUS-CPU node"
T1=$(date +%s)
rc=0
within "$SNAKEMAKE" --profile profiles/slurm --configfile "$SMOKE" "${SLURM_FLAGS[@]}" \
    --set-threads gaussian_spectrum=$((CPUS * 2)) --config results="$TMP/oversized/results" \
    figures="$TMP/oversized/figures" -- "$TMP/oversized/results/gaussian/lowdim/eigenvalues.npy" \
    > "$TMP/log/snakemake_oversized.log" 2>&1 || rc=$?
took=$(($(date +%s) - T1))
[ "$rc" != 0 ] || fail "the oversized run succeeded; it should have been stopped"
[ "$took" -le 120 ] || fail "the oversized run took ${took}s to stop (at most 120 s)"
grep -q "SLURM can never run rule gaussian_spectrum" "$TMP/log/snakemake_oversized.log" \
    || { tail -n 30 "$TMP/log/snakemake_oversized.log"; fail "no diffsched.infra.slurm_guard message in the log"; }
left_queued=$(squeue -h -t PENDING,RUNNING -o %i | wc -l)
[ "$left_queued" = 0 ] || fail "$left_queued jobs still queued after the oversized run stopped"
say "stopped after ${took}s (exit $rc): $(grep -m1 "SLURM can never run" "$TMP/log/snakemake_oversized.log")"
STEP=done
say "ok"
