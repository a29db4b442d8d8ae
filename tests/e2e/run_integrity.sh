#!/usr/bin/env bash
# Nothing lost, nothing wrong, nothing hung: faults injected into real runs, each ending as promised:
#  1. a checkpoint left by a run of other settings is not resumed: the run starts over and equals a clean run;
#  2. a second run of another config on the same folder is refused while the first runs (exit 2);
#  3. a record damaged after it was committed (bytes overwritten, truncated), a truncated model release and a
#     truncated results.h5: found before they are trusted; the jobs are done again with the same scores, and
#     `report` on the damaged results.h5 says what to do (exit 2);
#  4. a full disk (a small tmpfs): one line naming a file and "no space left", exit 2, no temporary file left,
#     what was committed kept; with room again the rerun completes with the same scores;
#  5. inputs that used to hang, abort or print nonsense: bounded, refused in one line (exit 2) or clamped, and every
#     subcommand stops at SIGTERM.
# usage: run_integrity.sh GANLEAKS_BINARY WORK_DIR
set -euo pipefail
bin="$1"; work="$2"
suite="e2e_integrity"
source "$(dirname "$0")/common.sh"
umount -l "$work/disk" 2>/dev/null || true  # the tmpfs of part 4, if a failed run left it mounted
rm -rf "$work"; mkdir -p "$work"

config_for() {  # config_for NAME RESULTS_DIR [sed expression]: the tiny sweep, fewer attacks
  sed -e "s#RESULTS_DIR#$2#" -e 's/^settings = .*/settings = ["fbb", "dis"]/' -e "${3:-s/^//}" "$here/tiny.toml" \
    > "$work/$1.toml"
  echo "$work/$1.toml"
}
same_scores() {  # same_scores A B WHAT
  "$python" "$root/tests/tools/compare_h5.py" "$1" "$2" --ignore experiment,config,resumed_from \
    > "$work/compare.log" || { cat "$work/compare.log"; fail "$3"; }
}
run() { "$root/launch/mpi" "$@"; }

echo "== reference runs"
ref=$(config_for ref "$work/ref")
run -n 2 "$bin" run "$ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference run"; }
longer='s/^iterations = 40/iterations = 300/; s/^checkpoint_every = 20/checkpoint_every = 10/'
ref_long=$(config_for ref_long "$work/ref_long" "$longer")
run -n 1 "$bin" run "$ref_long" > "$work/ref_long.log" 2>&1 || { cat "$work/ref_long.log"; fail "longer reference run"; }

echo "== 1. a checkpoint of other settings is not resumed"
stale=$(config_for stale "$work/stale" 's/^iterations = 40/iterations = 200/; s/^checkpoint_every = 20/checkpoint_every = 10/')
setsid "$root/launch/mpi" -n 1 "$bin" run "$stale" > "$work/stale-1.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do  # the first checkpoint of the first training run (the reference model), at most 60 s
  compgen -G "$work/stale/tiny/runs/*/checkpoint.pt" > /dev/null && break
  sleep 0.1
done
kill -USR2 "$(pgrep -f "mpirun .*$stale" | head -1)"
set +e; timeout 60 tail --pid="$launcher" -f /dev/null; wait "$launcher"; rc=$?; set -e
[ "$rc" -eq 75 ] || { cat "$work/stale-1.log"; fail "exit code $rc after SIGUSR2, expected 75"; }
compgen -G "$work/stale/tiny/runs/*/run.h5" > /dev/null && fail "a training job finished before the signal: nothing to test"
sed -i 's/^iterations = 200/iterations = 300/' "$stale"  # the checkpoint's settings no longer apply
run -n 1 "$bin" run "$stale" > "$work/stale-2.log" 2>&1 || { cat "$work/stale-2.log"; fail "run after a settings change"; }
grep -q "was written with other settings (the config changed since); starting this run over" \
  "$work/stale/tiny/logs/rank-0.log" || fail "the stale checkpoint was not set aside"
same_scores "$work/ref_long/tiny/results.h5" "$work/stale/tiny/results.h5" "a run after a stale checkpoint vs a clean run"

echo "== 2. one run per folder"
slow=$(config_for slow "$work/shared" "$longer")
other=$(config_for other "$work/shared" 's/^iterations = 40/iterations = 41/')
setsid "$root/launch/mpi" -n 1 "$bin" run "$slow" > "$work/slow.log" 2>&1 &
launcher=$!
for _ in $(seq 600); do
  compgen -G "$work/shared/tiny/runs/*" > /dev/null && break
  sleep 0.1
done
expect_user_error "a second run of another config" "in use by a run of another config" \
  "$root/launch/mpi" -n 1 "$bin" run "$other"
kill -TERM -- "-$launcher"; wait "$launcher" 2>/dev/null || true

echo "== 3. damaged records are found and done again"
damaged=$(config_for damaged "$work/damaged")
run -n 2 "$bin" run "$damaged" > "$work/damaged-1.log" 2>&1 || { cat "$work/damaged-1.log"; fail "run to damage"; }
folder="$work/damaged/tiny"
"$python" - "$folder/attacks/fbb-n16-s3.h5" <<'PY'
import sys
import h5py
path = sys.argv[1]
with h5py.File(path, "r") as f:  # where the scores' values lie: damaged values, the case the digest is for
    group = sorted(f.keys())[0]
    offset = f[group]["score"].id.get_offset()
assert offset is not None, f"{path}: the scores are not stored contiguously"
with open(path, "r+b") as f:  # (damaged HDF5 metadata can crash HDF5 1.10.8 itself: docs/architecture.md)
    f.seek(offset)
    f.write(b"\xff" * 16)
PY
truncate -s 1000 "$folder/attacks/dis-n48-s3.h5"
truncate -s 100 "$folder/runs/victim-n16-s3/generator.pt"
run -n 2 "$bin" run "$damaged" > "$work/damaged-2.log" 2>&1 || { cat "$work/damaged-2.log"; fail "run over damaged records"; }
for record in attacks/fbb-n16-s3.h5 attacks/dis-n48-s3.h5 runs/victim-n16-s3/run.h5; do
  grep -q "$record: .*its job is done again" "$folder/logs/rank-0.log" || fail "$record: damage not found"
done
same_scores "$work/ref/tiny/results.h5" "$folder/results.h5" "scores after damaged records were redone"
truncate -s 4000 "$folder/results.h5"
expect_user_error "report on a truncated results.h5" "results.h5: it cannot be read" "$bin" report "$damaged"
grep -q "run \`ganleaks run\` for this config again" "$work/err.txt" || fail "the message does not say what to do"
run -n 2 "$bin" run "$damaged" > "$work/damaged-3.log" 2>&1 || { cat "$work/damaged-3.log"; fail "rebuild results.h5"; }
same_scores "$work/ref/tiny/results.h5" "$folder/results.h5" "results.h5 rebuilt"

echo "== 4. a full disk"
disk="$work/disk"
mkdir -p "$disk"
if mount -t tmpfs -o size=1200k tmpfs "$disk" 2>/dev/null; then
  trap 'umount -l "$disk" 2>/dev/null || true' EXIT
  full=$(config_for full "$disk")
  expect_run_error "a full disk" "no space left" "$root/launch/mpi" -n 2 "$bin" run "$full"
  ! find "$disk" -name "*.tmp-*" | grep -q . || fail "temporary files left behind on the full disk"
  committed=$(find "$disk/tiny" -name "*.h5" | wc -l)
  mount -o remount,size=64m "$disk"
  run -n 2 "$bin" run "$full" > "$work/full-2.log" 2>&1 || { cat "$work/full-2.log"; fail "rerun with room"; }
  grep -q "$committed already done" "$disk/tiny/logs/rank-0.log" || echo "note: $committed records were kept"
  same_scores "$work/ref/tiny/results.h5" "$disk/tiny/results.h5" "rerun after the disk was full"
  umount "$disk"; trap - EXIT
else
  echo "SKIPPED: full disk (cannot mount a tmpfs here)"
fi

echo "== 5. inputs that hung, aborted or misled"
start=$(date +%s)
expect_user_error "tiny sigma" "outside \[1e-06, 1000000\]" \
  timeout 20 "$bin" privacy --noise-multiplier 1e-200 --sample-rate 0.1 --steps 40
expect_user_error "not a number" "'abc' is not a number" timeout 20 "$bin" privacy --noise-multiplier abc --sample-rate 1 --steps 40
expect_user_error "readable bounds" "2 is outside \[0, 1\]" timeout 20 "$bin" privacy --noise-multiplier 1 --sample-rate 2 --steps 4
grep -q "e+30[0-9]" "$work/err.txt" && fail "a bound printed as hundreds of digits"
out=$(timeout 20 "$bin" privacy --noise-multiplier 384 --sample-rate 1 --steps 40 --delta 0.01)
[ "$(echo "$out" | sed -n 's/^epsilon = //p')" = "0" ] || fail "epsilon not clamped at 0: $out"
sigma=$(config_for sigma "$work/sigma" 's/^\[attack\]/[privacy]\nnoise_multipliers = [1e-300]\n\n[attack]/')
expect_user_error "sigma in a config" "privacy.noise_multipliers\[0\] = 1e-300 is out of range" timeout 20 "$bin" plan "$sigma"
for delta in 1.0 1e-320; do
  d=$(config_for delta "$work/delta" "s/^\[attack\]/[privacy]\ntarget_epsilons = [3.0]\ndelta = $delta\n\n[attack]/")
  expect_user_error "delta = $delta" "privacy.delta" timeout 20 "$bin" plan "$d" --no-estimate
done
"$python" - "$work/a.h5" "$work/b.h5" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(0)
with h5py.File(sys.argv[1], "w") as f: f["features"] = rng.normal(size=(40, 3))
with h5py.File(sys.argv[2], "w") as f: f["features"] = rng.normal(size=(40, 3)) * 1e39  # beyond float32
PY
expect_user_error "features beyond float32" "b.h5: features\[0, 0\] = .*within float32's range" \
  timeout 20 "$bin" fid "$work/a.h5" "$work/b.h5"
big="$work/big.toml"  # 200 000 training-set sizes, 600 000 jobs: once quadratic (minutes), now linear (seconds)
"$python" -c "print('[experiment]\nname = \"big\"\nresults_dir = \"$work/big\"\n[sweep]\ntrain_sizes = [' + ', '.join(str(n) for n in range(1, 200001)) + ']\n[attack]\ncalibrated = [false]')" > "$big"
timeout 120 "$bin" plan "$big" --no-estimate > "$work/big.log" || fail "plan of 200 000 sizes did not finish within 120 s"
grep -q "^600000 jobs" "$work/big.log" || { tail -3 "$work/big.log"; fail "plan of 200 000 sizes"; }
# SIGTERM ends every subcommand, not only run (whose first signal checkpoints): the long plan above, 2 s in.
"$bin" plan "$big" --no-estimate > /dev/null 2>&1 &
pid=$!
sleep 2
kill -TERM "$pid"
set +e; timeout 20 tail --pid="$pid" -f /dev/null; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 143 ] || fail "plan did not stop at SIGTERM (exit $rc)"
echo "$suite: all checks passed ($(( $(date +%s) - start )) s for part 5)"
