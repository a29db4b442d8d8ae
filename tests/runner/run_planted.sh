#!/usr/bin/env bash
# The runner end to end with the task planted in tests/runner (no LibTorch, seconds), on real Open MPI ranks:
#  1. the same results on 1, 2 and 4 ranks; plan and report on the finished experiment;
#  2. a rerun resumes: nothing recomputed;
#  3. two slices side by side into one folder, then the run that finds every job done writes results.h5;
#  4. a failed job ends the run (exit 1, the job named), the finished jobs' records stay and a rerun completes;
#  5. SIGTERM during a job: exit 75, its progress saved; the rerun resumes it and ends with the same results;
#  6. a folder of another config (stale records) is refused with exit 2; --fresh starts a new folder;
#  7. bad input: one line, exit 2.
# usage: run_planted.sh PLANTED_RUNNER WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="runner_planted"
source "$(dirname "$0")/../e2e/common.sh"
rm -rf "$work"; mkdir -p "$work"

config_for() {  # config_for NAME [extra lines for [planted]]
  cat > "$work/$1.toml" <<TOML
[experiment]
task = "planted"
name = "$1"
results_dir = "$work/results"
seeds = [0, 1]
[planted]
sizes = [2, 3, 5]
${2:-}
TOML
  echo "$work/$1.toml"
}
same_results() {  # same_results A B WHAT: every dataset and attribute but where and how long a job ran, the
  # experiment's name and whether a job resumed
  "$python" "$root/tests/tools/compare_h5.py" "$1" "$2" --ignore experiment,config,resumed_from > "$work/compare.log" \
    || { cat "$work/compare.log"; fail "$3"; }
}
run() { "$root/launch/mpi" "$@"; }

echo "== 1, 2 and 4 ranks"
for n in 1 2 4; do
  c=$(config_for "ranks$n")
  run -n $n "$bin" run "$c" > "$work/ranks$n.log" 2>&1 || { cat "$work/ranks$n.log"; fail "$n-rank run"; }
done
grep -q "| gather-n5-s1 |" "$work/ranks2.log" || fail "the run did not print its table"
same_results "$work/results/ranks1/results.h5" "$work/results/ranks2/results.h5" "1 vs 2 ranks"
same_results "$work/results/ranks1/results.h5" "$work/results/ranks4/results.h5" "1 vs 4 ranks"
"$bin" plan "$work/ranks2.toml" | grep -q "14 of 14 already done" || fail "plan of the finished experiment"
"$bin" report "$work/ranks2.toml" | grep -q "| gather-n2-s0 |" || fail "report"

echo "== a rerun resumes"
before=$(sha256sum "$work/results/ranks2/gathers/"*.h5 "$work/results/ranks2/runs/"*/run.h5)
run -n 2 "$bin" run "$work/ranks2.toml" > "$work/rerun.log" 2>&1 || { cat "$work/rerun.log"; fail "rerun"; }
grep -q "14 already done" "$work/results/ranks2/logs/rank-0.log" || fail "the rerun did not find its jobs done"
[ "$before" = "$(sha256sum "$work/results/ranks2/gathers/"*.h5 "$work/results/ranks2/runs/"*/run.h5)" ] \
  || fail "the rerun rewrote finished records"

echo "== two slices side by side"
c=$(config_for sliced)
run -n 1 "$bin" run "$c" --slice 0/2 > "$work/slice0.log" 2>&1 &
first=$!
run -n 2 "$bin" run "$c" --slice 1/2 > "$work/slice1.log" 2>&1 || { cat "$work/slice1.log"; fail "slice 1/2"; }
wait $first || { cat "$work/slice0.log"; fail "slice 0/2"; }
[ -f "$work/results/sliced/results.h5" ] || run -n 1 "$bin" run "$c" > "$work/slices-merge.log" 2>&1
same_results "$work/results/ranks1/results.h5" "$work/results/sliced/results.h5" "slices vs one run"

echo "== a failed job"
c=$(config_for failing 'fail_job = "count-n3-s1"')
set +e; run -n 2 "$bin" run "$c" > "$work/failing.log" 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || { cat "$work/failing.log"; fail "a failed job: exit code $rc, expected 1"; }
grep -q "job count-n3-s1 failed on rank" "$work/failing.log" || { cat "$work/failing.log"; fail "the failed job is not named"; }
[ -f "$work/results/failing/runs/count-n2-s0/run.h5" ] || fail "finished jobs were lost with the failure"
sed -i 's/^fail_job = .*//' "$c"
run -n 2 "$bin" run "$c" > "$work/failing-rerun.log" 2>&1 || { cat "$work/failing-rerun.log"; fail "rerun after a failure"; }
same_results "$work/results/ranks1/results.h5" "$work/results/failing/results.h5" "rerun after a failure"

echo "== SIGTERM, then resume"
c=$(config_for signalled 'step_seconds = 0.02')
setsid "$root/launch/mpi" -n 2 "$bin" run "$c" > "$work/signalled.log" 2>&1 &
launcher=$!
for _ in $(seq 200); do  # until the first job has begun
  compgen -G "$work/results/signalled/runs/*" > /dev/null && break
  sleep 0.05
done
sleep 0.3
for p in $(pgrep -x planted_runner); do  # every rank (not mpirun), as scancel signals a job step's processes
  grep -q "$c" "/proc/$p/cmdline" 2>/dev/null && kill -TERM "$p"
done
set +e; timeout 60 tail --pid="$launcher" -f /dev/null; wait $launcher; rc=$?; set -e
[ $rc -eq 75 ] || { cat "$work/signalled.log"; fail "SIGTERM: exit code $rc, expected 75"; }
compgen -G "$work/results/signalled/runs/*/checkpoint.txt" > /dev/null || fail "no progress saved at the signal"
run -n 2 "$bin" run "$c" > "$work/resumed.log" 2>&1 || { cat "$work/resumed.log"; fail "resume after SIGTERM"; }
"$python" - "$work/results/signalled/results.h5" <<'PY' || fail "no job resumed from its checkpoint"
import sys, h5py
runs = h5py.File(sys.argv[1], "r")["runs"]
assert any(runs[r].attrs["resumed_from"] > 0 for r in runs), "every count job started from step 0"
PY
sed -i 's/^step_seconds = .*//' "$c"
# The step time is not hashed in the planted task (only steps and blocks are), so the results compare.
same_results "$work/results/ranks1/results.h5" "$work/results/signalled/results.h5" "resumed vs uninterrupted"

echo "== a folder of another config, and --fresh"
c="$work/ranks2.toml"
sed -i 's/^sizes = .*/sizes = [2, 3, 5]\nsteps = 60/' "$c"
expect_user_error "stale records" "holds results of a different config" "$root/launch/mpi" -n 2 "$bin" run "$c"
run -n 2 "$bin" run "$c" --fresh > "$work/fresh.log" 2>&1 || { cat "$work/fresh.log"; fail "--fresh"; }
compgen -G "$work/results/ranks2-*/results.h5" > /dev/null || fail "--fresh did not start a new folder"

echo "== bad input"
printf '[planted]\nsizes = [0]\n' > "$work/bad.toml"
expect_user_error "bad value" "planted.sizes\[0\] = 0 is out of range" "$root/launch/mpi" -n 2 "$bin" run "$work/bad.toml"
expect_user_error "missing file" "no-such.toml" "$root/launch/mpi" -n 1 "$bin" run "$work/no-such.toml"
echo "$suite: ok"
