#!/usr/bin/env bash
# The SLURM launcher end to end on a real, single-node SLURM: munged, slurmctld and slurmd are
# started on localhost with everything (config, state, spool, logs, pid files, munge key and socket)
# under a temporary folder and non-default ports, so nothing of the machine's own setup is used or
# changed. `repro reproduce examples/layer_error --launcher slurm` submits the table's rows as a
# job array; the test waits for the jobs, then checks the records (repro verify), the report and
# `repro status`. The daemons are stopped by their pid files on exit, however the test ends.
#
#   tests/apps/slurm_test.sh <path to repro>      (make test-slurm; needs scripts/setup-deps.sh --slurm)
#
# Environment: SLURM_TEST_TIMEOUT (seconds to wait for the jobs, default 600), SLURM_TEST_KEEP=1
# keeps the temporary folder (its logs) for a look after a failure.
set -uo pipefail
REPRO=${1:?usage: slurm_test.sh <repro binary>}
REPRO=$(cd "$(dirname "$REPRO")" && pwd)/$(basename "$REPRO")
TABLE=examples/layer_error
TIMEOUT=${SLURM_TEST_TIMEOUT:-600}
start_s=$(date +%s)

for tool in munged slurmctld slurmd sbatch squeue scontrol; do
  command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
  command -v "$tool" >/dev/null 2>&1 || { echo "slurm_test: '$tool' not found (scripts/setup-deps.sh --slurm)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "slurm_test: run as root (slurmd starts job steps as their user)" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/repro-slurm.XXXXXX")
chmod 700 "$T"
stop_daemons() {
  local f pid i
  for f in "$T/slurmd.pid" "$T/slurmctld.pid" "$T/munge/munged.pid"; do
    [ -s "$f" ] || continue
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || continue
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "${SLURM_TEST_KEEP:-0}" = 1 ]; then echo "slurm_test: kept $T"; else rm -rf "$T"; fi
}
trap stop_daemons EXIT

fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
die() {
  echo "FAIL: $*" >&2
  for log in "$T/slurmctld.log" "$T/slurmd.log" "$T/munge/munged.log"; do
    [ -f "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; }
  done
  exit 1
}

# A free TCP port on localhost from a range SLURM does not use by default (6817-6819).
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  die "no free port found"
}

# munge: its own key, socket, pid, log and seed files.
mkdir -p "$T/munge" "$T/state" "$T/spool" "$T/out"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
MUNGE_SOCKET=$T/munge/munge.socket
munged --socket="$MUNGE_SOCKET" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
  --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" --force \
  || die "munged did not start"

# slurm.conf: one node (this machine at 127.0.0.1) in one partition. No cgroup.conf: process tracking
# by /proc (proctrack/linuxproc) and no task plugin, so no cgroup hierarchy is needed.
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.9 }' /proc/meminfo)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=reprotest
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$(id -un)
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
MinJobAge=600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=repro Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -i || die "slurmctld did not start"   # -i: ignore (absent) saved state
slurmd -N "$HOST" || die "slurmd did not start"
for i in $(seq 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1)
  case "$state" in idle*|mixed*|allocated*) break ;; esac
  sleep 1
done
case "$state" in idle*|mixed*|allocated*) ;; *) die "the node did not come up (state '${state:-none}')" ;; esac
echo "slurm_test: SLURM up on $HOST (ports $CTLD_PORT, $SLURMD_PORT) in $(( $(date +%s) - start_s )) s"

# --- The table through SLURM. The results folder has a space in its name: the scripts must quote it.
RESULTS="$T/results dir"
R=(--results-dir "$RESULTS")
expect_rc() {  # expect_rc <rc> <description> -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$T/out.txt" 2>"$T/err.txt"; local rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want ($(head -c 400 "$T/err.txt"))"
}

# Bad input is refused before anything is submitted; without sbatch the error says so.
expect_rc 2 "a malformed --slurm-time" -- "$REPRO" reproduce $TABLE --launcher slurm "${R[@]}" --slurm-time soon
grep -q -- "--slurm-time" "$T/err.txt" || fail "the --slurm-time error does not name the flag: $(cat "$T/err.txt")"
expect_rc 2 "a reserved --slurm-extra option" -- "$REPRO" reproduce $TABLE --launcher slurm "${R[@]}" --slurm-extra "--array=1"
expect_rc 2 "--slurm-cpus without --launcher slurm" -- "$REPRO" reproduce $TABLE "${R[@]}" --slurm-cpus 2
expect_rc 2 "no sbatch on PATH" -- env PATH=/nonexistent "$REPRO" reproduce $TABLE --launcher slurm "${R[@]}"
grep -q "sbatch" "$T/err.txt" || fail "the missing-sbatch error does not name sbatch: $(cat "$T/err.txt")"
expect_rc 2 "a partition SLURM does not have" -- "$REPRO" reproduce $TABLE --launcher slurm "${R[@]}" --slurm-partition nosuch
grep -q "sbatch refused .*rows.sbatch" "$T/err.txt" || fail "sbatch's refusal is not reported: $(cat "$T/err.txt")"
[ ! -e "$RESULTS/runs/$TABLE/slurm" ] || [ -z "$(ls -A "$RESULTS/runs/$TABLE/slurm")" ] || fail "a refused launch left a submission"

# Submitted on hold, so that `repro status` sees the rows queued, then released.
rows=$("$REPRO" reproduce $TABLE --dry-run "${R[@]}" | grep -c '^  \[')
"$REPRO" reproduce $TABLE --launcher slurm "${R[@]}" --slurm-extra "--hold" >"$T/submit.txt" 2>"$T/submit.err" \
  || die "reproduce --launcher slurm failed: $(cat "$T/submit.txt" "$T/submit.err")"
cat "$T/submit.txt"
JOB=$(sed -n 's/^submitted job \([0-9]*\): .* rows of .*/\1/p' "$T/submit.txt")
REPORT_JOB=$(sed -n 's/^submitted job \([0-9]*\): repro report.*/\1/p' "$T/submit.txt")
[ -n "$JOB" ] && [ -n "$REPORT_JOB" ] || die "no job ids in the output of reproduce --launcher slurm"
SUB=$(ls -d "$RESULTS/runs/$TABLE/slurm"/*/ | head -n 1)
grep -q "^#SBATCH --array=0,1,2," "$SUB/rows.sbatch" || fail "rows.sbatch has no --array line for rows 0,1,2,...: $(grep array "$SUB/rows.sbatch")"
grep -q "^#SBATCH --cpus-per-task=1$" "$SUB/rows.sbatch" || fail "rows.sbatch does not ask for the [slurm] cpus"
grep -q "^#SBATCH --dependency=afterany:$JOB$" "$SUB/report.sbatch" || fail "report.sbatch does not wait for job $JOB"
grep -q "\"job_id\": \"$JOB\"" "$SUB/submission.json" || fail "submission.json does not record job $JOB"

"$REPRO" status $TABLE "${R[@]}" >"$T/status0.txt" || fail "repro status exited $?"
grep -q "$TABLE: $rows rows: 0 done, 0 failed, 0 running, $rows queued" "$T/status0.txt" \
  || fail "held jobs are not shown as queued: $(tail -n 3 "$T/status0.txt")"
scontrol release "$JOB" "$REPORT_JOB" || die "scontrol release failed"

# Wait for both jobs to leave the queue.
waited=0
while :; do
  left=$(squeue --noheader --jobs="$JOB,$REPORT_JOB" 2>/dev/null | wc -l)
  [ "$left" -eq 0 ] && break
  [ "$waited" -ge "$TIMEOUT" ] && { squeue; die "jobs still queued after $TIMEOUT s"; }
  sleep 2; waited=$((waited + 2))
done
echo "slurm_test: $rows rows and the report ran through SLURM in $waited s"

expect_rc 0 "repro verify" -- "$REPRO" verify $TABLE "${R[@]}"
grep -q "$rows records ($rows ok, 0 errors)" "$T/out.txt" || fail "verify: $(cat "$T/out.txt")"
grep -q "verify: clean" "$T/out.txt" || fail "verify: $(cat "$T/out.txt")"
[ -s "$RESULTS/examples/layer_error.md" ] || fail "the report job wrote no report ($(cat "$SUB/report.out" 2>/dev/null))"
[ -s "$SUB/row-0.out" ] || fail "no log of the array task for row 0"
expect_rc 0 "repro status" -- "$REPRO" status $TABLE "${R[@]}"
grep -q "$TABLE: $rows rows: $rows done, 0 failed, 0 running, 0 queued, 0 submitted, 0 missing" "$T/out.txt" \
  || fail "status does not say all done: $(tail -n 4 "$T/out.txt")"
[ "$(grep -c '^  \[.*\] done ' "$T/out.txt")" -eq "$rows" ] || fail "status has not one 'done' line per row"
# A row whose record went away after its task ended is missing again, and status says which task ran it.
rec=$(grep -l '"row": 3,' "$RESULTS/runs/$TABLE"/*.json | head -n 1)
[ -n "$rec" ] && rm -f "$rec"
expect_rc 0 "repro status with a record removed" -- "$REPRO" status $TABLE "${R[@]}"
grep -q "^  \[  3\] missing .*slurm job ${JOB}_3 ended without a record" "$T/out.txt" \
  || fail "status does not show row 3 as missing after job $JOB: $(grep '\[  3\]' "$T/out.txt")"
"$REPRO" run-row $TABLE 3 "${R[@]}" --no-progress >/dev/null || fail "run-row 3 failed"
expect_rc 0 "a second launch" -- "$REPRO" reproduce $TABLE --launcher slurm "${R[@]}"
grep -q "nothing to submit" "$T/out.txt" || fail "a second launch submitted again: $(cat "$T/out.txt")"

echo "slurm_test: $([ $fails -eq 0 ] && echo passed || echo "$fails FAILED") in $(( $(date +%s) - start_s )) s"
[ "$fails" -eq 0 ]
