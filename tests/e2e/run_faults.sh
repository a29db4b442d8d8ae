#!/usr/bin/env bash
# Faults and operations through the real executable on real Open MPI ranks (issue #7):
#  1. one rank killed with SIGKILL mid-training: the job exits non-zero promptly, naming the rank; the rerun
#     resumes and ends with the uninterrupted run's scores;
#  2. SIGUSR2 (what Slurm sends before a time limit) mid-training: every rank checkpoints and exits 75; the
#     rerun ends with the same scores;
#  3. two slices of the plan (--slice 0/2, 1/2) running at the same time into one folder: the same scores;
#  4. an extended sweep (one more training-set size) reuses every finished job, a changed setting is refused
#     naming the finished jobs it would invalidate.
# usage: run_faults.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e faults"
source "$(dirname "$0")/common.sh"
rm -rf "$work"; mkdir -p "$work"
longer='s/^iterations = 40/iterations = 300/; s/^checkpoint_every = 20/checkpoint_every = 25/'
config_for() {  # config_for NAME RESULTS_DIR [extra sed expression]
  sed -e "s#RESULTS_DIR#$2#" -e "$longer" -e "${3:-s/^//}" "$here/tiny.toml" > "$work/$1.toml"
  echo "$work/$1.toml"
}
wait_for_checkpoint() {  # wait_for_checkpoint RESULTS_DIR: the first checkpoint of any training run, at most 60 s
  for _ in $(seq 600); do
    compgen -G "$1/tiny/runs/*/checkpoint.pt" > /dev/null && return 0
    sleep 0.1
  done
  fail "no checkpoint within 60 s"
}
rank_pid() {  # rank_pid CONFIG RANK: the pid of that rank of `ganleaks run CONFIG`
  for p in $(pgrep -f "ganleaks run $1"); do
    [ "$(tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" = "$2" ] && { echo "$p"; return; }
  done
}

echo "== uninterrupted reference"
ref=$(config_for ref "$work/ref")
"$root/launch/mpi" -n 2 "$bin" run "$ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference run"; }

echo "== one rank killed (SIGKILL) mid-training"
killed=$(config_for killed "$work/killed")
setsid "$root/launch/mpi" -n 2 "$bin" run "$killed" > "$work/killed.log" 2>&1 &
launcher=$!
wait_for_checkpoint "$work/killed"
pid=$(rank_pid "$killed" 1)
[ -n "$pid" ] || fail "rank 1 not found"
kill -KILL "$pid"
start=$(date +%s)
set +e; timeout 60 tail --pid="$launcher" -f /dev/null; wait "$launcher"; rc=$?; set -e
elapsed=$(( $(date +%s) - start ))
[ "$rc" -ne 0 ] || fail "the job exited 0 after a rank was killed"
[ "$elapsed" -le 30 ] || fail "the job took ${elapsed} s to end after a rank died"
grep -q "process rank 1 .*exited on signal 9" "$work/killed.log" || { cat "$work/killed.log"; fail "the error does not name rank 1"; }
echo "   exit code $rc, ${elapsed} s after the kill: $(grep -o 'process rank 1 .*' "$work/killed.log")"
[ ! -f "$work/killed/tiny/results.h5" ] || fail "the run finished before the kill"
"$root/launch/mpi" -n 2 "$bin" run "$killed" > "$work/killed-rerun.log" 2>&1 || { cat "$work/killed-rerun.log"; fail "rerun after the kill"; }
"$python" "$here/check_results.py" "$work/ref/tiny/results.h5" "$work/killed/tiny/results.h5" --resumed

echo "== SIGUSR2 mid-training: checkpoint, exit 75, resume"
signalled=$(config_for signalled "$work/signalled")
setsid "$root/launch/mpi" -n 2 "$bin" run "$signalled" > "$work/signalled.log" 2>&1 &
launcher=$!
wait_for_checkpoint "$work/signalled"
kill -USR2 "$(pgrep -f "mpirun .*$signalled" | head -1)"  # mpirun forwards it to every rank
set +e; timeout 60 tail --pid="$launcher" -f /dev/null; wait "$launcher"; rc=$?; set -e
[ "$rc" -eq 75 ] || { cat "$work/signalled.log"; fail "exit code $rc after SIGUSR2, expected 75"; }
grep -q "ganleaks: interrupted: .* rerun the same command to resume" "$work/signalled.log" || fail "no interruption message"
"$root/launch/mpi" -n 2 "$bin" run "$signalled" > "$work/signalled-rerun.log" 2>&1 || { cat "$work/signalled-rerun.log"; fail "rerun after SIGUSR2"; }
"$python" "$here/check_results.py" "$work/ref/tiny/results.h5" "$work/signalled/tiny/results.h5" --resumed

echo "== two slices at the same time"
sliced=$(config_for sliced "$work/sliced")
"$root/launch/mpi" -n 1 "$bin" run "$sliced" --slice 0/2 > "$work/slice0.log" 2>&1 &
first=$!
"$root/launch/mpi" -n 1 "$bin" run "$sliced" --slice 1/2 > "$work/slice1.log" 2>&1 || { cat "$work/slice1.log"; fail "slice 1/2"; }
wait "$first" || { cat "$work/slice0.log"; fail "slice 0/2"; }
if [ ! -f "$work/sliced/tiny/results.h5" ]; then  # both finished the last job at once: the merge step's run
  "$root/launch/mpi" -n 1 "$bin" run "$sliced" > "$work/merge.log" 2>&1 || fail "merge"
fi
"$python" "$here/check_results.py" "$work/ref/tiny/results.h5" "$work/sliced/tiny/results.h5"
"$bin" run "$sliced" --slice 2/2 > /dev/null 2> "$work/err.txt" && fail "--slice 2/2 accepted"
grep -q "expected k/N with 0 <= k < N" "$work/err.txt" || fail "bad --slice message"

echo "== an extended sweep reuses finished jobs; a changed setting is refused"
extended=$(config_for extended "$work/ref" 's/^train_sizes = \[16, 48\]/train_sizes = [16, 48, 64]/')
before=$(sha256sum "$work/ref/tiny/attacks/"*.h5)
"$root/launch/mpi" -n 2 "$bin" run "$extended" > "$work/extended.log" 2>&1 || { cat "$work/extended.log"; fail "extended sweep"; }
grep -q "experiment tiny: 22 jobs, 15 already done" "$work/extended.log" || { cat "$work/extended.log"; fail "the extended sweep did not reuse the 15 finished jobs"; }
[ "$before" = "$(sha256sum "$work/ref/tiny/attacks/"*.h5 | grep -v -- '-n64-')" ] || fail "finished attacks were rewritten"
ls "$work/ref/tiny/"config-until-*.toml > /dev/null || fail "the earlier config was not kept"
changed=$(config_for changed "$work/ref" 's/^batch_size = 16/batch_size = 8/')
set +e; "$root/launch/mpi" -n 2 "$bin" run "$changed" > "$work/changed.out" 2> "$work/changed.err"; rc=$?; set -e
[ "$rc" -eq 2 ] || { cat "$work/changed.err"; fail "a changed training setting: exit code $rc, expected 2"; }
grep -q "holds results of a different config: 15 finished job(s) were computed with other settings (runs/" "$work/changed.err" \
  || { cat "$work/changed.err"; fail "the refusal does not name the invalidated jobs"; }
echo "e2e faults: all checks passed"
