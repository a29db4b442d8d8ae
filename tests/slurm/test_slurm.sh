#!/usr/bin/env bash
# The batch scripts in slurm/ on a real Slurm cluster (tests/slurm/cluster.sh: slurmctld, slurmd and munge on
# localhost), against a reference run of the same tiny sweep without Slurm:
#  0. launch: slurm/ganleaks.sbatch with a stand-in binary that prints its environment: under srun each of
#     2 ranks sees one GPU of its own (the node's pretend GPUs, tests/slurm/cluster.sh), under mpirun both;
#     arguments, OMP_NUM_THREADS = --cpus-per-task and launch/common.sh's settings reach every rank;
#  1. requeue: `sbatch --wait slurm/ganleaks.sbatch` on 2 ranks (srun --mpi=pmix), `scontrol requeue` once the
#     first checkpoint exists; the job must come back (RestartCnt 1), COMPLETE, and score exactly as the
#     reference, with a training run resumed from its checkpoint;
#  2. signal: the same, CPU only (--gpus-per-task=0), with `scancel --signal=USR2 --batch` (what Slurm sends
#     before the time limit with --signal=B:USR2@T): the runner checkpoints and exits 75, the script requeues
#     the job itself;
#  3. cancel: `scancel` during training ends the job for good: CANCELLED, not requeued although the runner
#     exits 75 (resumable) on the SIGTERM;
#  4. array: slurm/submit-array.sh with 2 slices (one rank each, running at the same time into one results
#     folder) and the merge job after them; slice 0 gets SIGUSR2 during training and requeues itself. Every
#     task and the merge COMPLETED, the merge found all 15 jobs done, results equal the reference;
#  5. the cluster stops and leaves no daemon behind (also on failure: trap).
# `sbatch --wait` returns 0 in cases that are failures (a job cancelled because its dependency failed, a
# cancelled job still completing), so every job's final JobState (`scontrol show job`) is checked.
# usage: test_slurm.sh GANLEAKS_BINARY WORK_DIR
# GANLEAKS_SLURM_TEST_PARTS (default "launch requeue signal cancel array") picks parts when debugging.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: test_slurm.sh GANLEAKS_BINARY WORK_DIR" >&2; exit 2; }
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/launch/common.sh"
python="$root/.venv/bin/python"
parts="${GANLEAKS_SLURM_TEST_PARTS:-launch requeue signal cancel array}"
cluster="$work/cluster"
[ ! -f "$cluster/slurm.conf" ] || "$here/cluster.sh" stop "$cluster" > /dev/null 2>&1 || true  # an earlier run's
rm -rf "$work"; mkdir -p "$work"
work="$(cd "$work" && pwd)"
cluster="$work/cluster"
t_start=$SECONDS

fail() { echo "slurm test: FAILED: $*" >&2; exit 1; }
elapsed() { echo "$((SECONDS - $1)) s"; }
part() { [[ " $parts " == *" $1 "* ]]; }

# Whatever happens (a failed check, ctest's timeout), the cluster goes down with the test.
trap '"$here/cluster.sh" stop "$cluster" > /dev/null 2>&1 || true' EXIT
trap 'exit 143' TERM INT
t0=$SECONDS
export_line=$("$here/cluster.sh" start "$cluster") || fail "the test cluster did not start (its logs are above)"
eval "$export_line"
echo "== cluster up in $(elapsed $t0) ($SLURM_CONF)"
export GANLEAKS_BIN="$bin"  # the batch scripts run this binary, not the checkout's default build
# The scripts ask for one GPU per rank; the test node has pretend GPUs unless mknod was refused.
gpu_request=()
sinfo -h -o %G | grep -q "gpu:" || { gpu_request=(--gpus-per-task=0); echo "   (no GPUs on the test node: jobs ask for none)"; }

# Training long enough to interrupt: 3 runs of 300 iterations (~6 s each here), a checkpoint every 25.
config_for() {  # config_for NAME RESULTS_DIR
  sed -e "s#RESULTS_DIR#$2#" -e 's/^iterations = 40/iterations = 300/; s/^checkpoint_every = 20/checkpoint_every = 25/' \
    "$root/tests/e2e/tiny.toml" > "$work/$1.toml"
  grep -q "^iterations = 300" "$work/$1.toml" || fail "tests/e2e/tiny.toml changed: no 'iterations = 40' to lengthen"
  echo "$work/$1.toml"
}

job_field() {  # job_field ID NAME: NAME=value of the job's (first) record in `scontrol show job`
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
final_state() {  # final_state ID TIMEOUT_S: waits until the job has ended, prints its JobState
  local state=""
  for _ in $(seq $(($2 * 2))); do
    state=$(job_field "$1" JobState)
    case "$state" in
      COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|BOOT_FAIL|DEADLINE|PREEMPTED) echo "$state"; return 0 ;;
    esac
    sleep 0.5
  done
  echo "${state:-UNKNOWN}(still, after $2 s)"
}
wait_for_checkpoint() {  # wait_for_checkpoint RESULTS_DIR JOB_ID: the first checkpoint of a training run
  for _ in $(seq 1200); do  # at most 120 s (the job may first wait for the node)
    compgen -G "$1/tiny/runs/*/checkpoint.pt" > /dev/null && return 0
    case "$(job_field "$2" JobState)" in PENDING|RUNNING|CONFIGURING) ;; *) return 1 ;; esac
    sleep 0.1
  done
  return 1
}
show_job() {  # what a failure message needs: the job's record and its output
  scontrol show job "$1" >&2 || true
  [ ! -f "$2" ] || { echo "----- $2" >&2; tail -n 60 "$2" >&2; }
}

# Submits slurm/ganleaks.sbatch with `sbatch --wait`, interrupts it with INTERRUPT (a command; ID is replaced
# by the job id) once the first checkpoint exists, and checks that the job came back and completed.
interrupted_job() {  # interrupted_job NAME INTERRUPT HINT [sbatch options]
  local name="$1" interrupt="$2" hint="$3" cfg dir id="" rc=0 state restarts
  shift 3
  dir="$work/$name"
  cfg=$(config_for "$name" "$dir")
  sbatch --wait --parsable --job-name="ganleaks-$name" --ntasks=2 --cpus-per-task=1 "$@" \
    --output="$work/$name.out" "$root/slurm/ganleaks.sbatch" "$cfg" > "$work/$name.id" 2> "$work/$name.sbatch.err" &
  local waiter=$!
  for _ in $(seq 100); do
    id=$(cat "$work/$name.id" 2>/dev/null || true)
    [ -n "$id" ] && break
    sleep 0.1
  done
  [ -n "$id" ] || { cat "$work/$name.sbatch.err" >&2; fail "$name: sbatch printed no job id"; }
  wait_for_checkpoint "$dir" "$id" || { show_job "$id" "$work/$name.out"; fail "$name: no checkpoint.pt while job $id ran"; }
  [ ! -f "$dir/tiny/results.h5" ] || fail "$name: the sweep finished before it could be interrupted"
  local t_interrupt=$SECONDS
  eval "${interrupt//ID/$id}"
  # The job must come back (Slurm counts the restart at once, the job runs again ~11 s later) and finish.
  for _ in $(seq 2400); do
    kill -0 "$waiter" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$waiter" 2> /dev/null; then
    show_job "$id" "$work/$name.out"
    scancel "$id" || true
    fail "$name: job $id still not done 240 s after the interruption"
  fi
  wait "$waiter" || rc=$?
  state=$(final_state "$id" 30)
  restarts=$(job_field "$id" Restarts)
  if [ "$state" != COMPLETED ] || [ "${restarts:-0}" -lt 1 ] || [ $rc -ne 0 ]; then
    show_job "$id" "$work/$name.out"
    fail "$name: job $id ended $state with sbatch --wait code $rc after $restarts restarts (expected COMPLETED after >= 1)$hint"
  fi
  grep -q "(restart 1)" "$work/$name.out" || { show_job "$id" "$work/$name.out"; fail "$name: the output shows no restarted run"; }
  echo "   job $id: interrupted, restarted ($restarts), COMPLETED $(elapsed $t_interrupt) after the interruption"
  "$python" "$root/tests/e2e/check_results.py" "$ref/tiny/results.h5" "$dir/tiny/results.h5" --resumed ||
    fail "$name: results differ from the run without Slurm"
}

if part launch; then
  echo "== what each rank gets from slurm/ganleaks.sbatch: srun (one GPU each) and mpirun"
  t0=$SECONDS
  # A stand-in for ganleaks that only reports its rank's environment and arguments (under mpirun every rank
  # inherits the batch step's SLURM_PROCID=0: Open MPI's own variable first).
  probe="$work/probe"
  cat > "$probe" <<'PROBE'
#!/bin/sh
echo "probe rank=${OMPI_COMM_WORLD_RANK:-$SLURM_PROCID} gpus=${CUDA_VISIBLE_DEVICES:-none}" \
  "threads=$OMP_NUM_THREADS root_ok=$OMPI_ALLOW_RUN_AS_ROOT hdf5_lock=$HDF5_USE_FILE_LOCKING args=$*"
PROBE
  chmod +x "$probe"
  probe_job() {  # probe_job LAUNCHER NTASKS CPUS_PER_TASK EXPECTED_GPUS (one word per rank)
    local out="$work/probe-$1-$2x$3.out" lines expected got
    GANLEAKS_BIN="$probe" GANLEAKS_LAUNCHER="$1" sbatch --wait --ntasks="$2" --cpus-per-task="$3" "${gpu_request[@]}" \
      --output="$out" "$root/slurm/ganleaks.sbatch" some.toml --fresh > /dev/null || { cat "$out" >&2; fail "probe job ($1)"; }
    lines=$(grep "^probe " "$out" | sort)
    [ ${#gpu_request[@]} -eq 0 ] || set -- "$1" "$2" "$3" "$(printf 'none %.0s' $(seq "$2"))"
    expected=""
    for ((r = 0; r < $2; r++)); do
      expected+="probe rank=$r gpus=$(cut -d' ' -f$((r + 1)) <<< "$4") threads=$3 root_ok=1 hdf5_lock=FALSE args=run some.toml --fresh"$'\n'
    done
    got="$lines"$'\n'
    [ "$got" = "$expected" ] || { printf 'expected:\n%sgot:\n%s' "$expected" "$got" >&2; cat "$out" >&2; fail "$1: ranks' environment"; }
    echo "   $1, $2 task(s) x $3 CPU(s): GPUs per rank: $4"
  }
  probe_job srun 2 1 "0 1"         # each rank its own GPU (--gpus-per-task=1)
  probe_job srun 1 2 "0"           # OMP_NUM_THREADS = --cpus-per-task
  probe_job mpirun 2 1 "0,1 0,1"   # under mpirun every rank sees the node's GPUs
  echo "   $(elapsed $t0)"
fi

echo "== reference run without Slurm (launch/mpi -n 2)"
t0=$SECONDS
ref="$work/reference"
ref_cfg=$(config_for reference "$ref")
"$root/launch/mpi" -n 2 "$bin" run "$ref_cfg" > "$work/reference.log" 2>&1 ||
  { cat "$work/reference.log"; fail "reference run"; }
echo "   $(elapsed $t0)"

if part requeue; then
  echo "== sbatch --wait slurm/ganleaks.sbatch, scontrol requeue during training"
  t0=$SECONDS
  interrupted_job requeue "scontrol requeue ID" "" "${gpu_request[@]}"
  echo "   $(elapsed $t0)"
fi

if part signal; then
  echo "== sbatch --wait slurm/ganleaks.sbatch, scancel --signal=USR2 --batch during training"
  t0=$SECONDS
  # Needs the runner's side of the contract (slurm/common.sh): on SIGUSR2 every rank checkpoints and
  # `ganleaks run` exits with 75; the script then requeues the job.
  interrupted_job signal "scancel --signal=USR2 --batch ID" \
    "; the runner must checkpoint on SIGUSR2 and exit with 75 (issue #7): see 'ganleaks exited with code' above" \
    --gpus-per-task=0  # the CPU-only form
  grep -q "ganleaks exited with code 75" "$work/signal.out" && grep -q "requeueing job" "$work/signal.out" ||
    { tail -n 40 "$work/signal.out" >&2; fail "signal: the job came back, but not through exit code 75 and the script's requeue"; }
  echo "   $(elapsed $t0)"
fi

if part cancel; then
  echo "== scancel during training: the job stays CANCELLED (its exit code 75 does not requeue it)"
  t0=$SECONDS
  cfg=$(config_for cancel "$work/cancel")
  id=$(sbatch --parsable --job-name=ganleaks-cancel --ntasks=2 --cpus-per-task=1 --gpus-per-task=0 \
    --output="$work/cancel.out" "$root/slurm/ganleaks.sbatch" "$cfg")
  wait_for_checkpoint "$work/cancel" "$id" || { show_job "$id" "$work/cancel.out"; fail "cancel: no checkpoint.pt while job $id ran"; }
  scancel "$id"
  state=$(final_state "$id" 60)
  restarts=$(job_field "$id" Restarts)
  [ "$state" = CANCELLED ] && [ "$restarts" = 0 ] && grep -q "not requeued" "$work/cancel.out" ||
    { show_job "$id" "$work/cancel.out"; fail "cancel: job $id ended $state after $restarts restarts (expected CANCELLED, 0, 'not requeued')"; }
  echo "   job $id: $state, exit code $(job_field "$id" ExitCode), not requeued; $(elapsed $t0)"
fi

if part array; then
  echo "== slurm/submit-array.sh cfg 2 (one rank per slice, side by side), USR2 to slice 0, then the merge job"
  t0=$SECONDS
  mkdir -p "$work/array"
  cfg=$(config_for array "$work/array")
  # Submitted from the work folder: the jobs' output files land there.
  (cd "$work/array" && "$root/slurm/submit-array.sh" "$cfg" 2 --ntasks=1 --cpus-per-task=1 "${gpu_request[@]}") \
    > "$work/array.ids" 2>&1 || { cat "$work/array.ids"; fail "submit-array.sh"; }
  array_id=$(sed -n 's/^array job \([0-9]*\):.*/\1/p' "$work/array.ids")
  merge_id=$(sed -n 's/^merge job \([0-9]*\):.*/\1/p' "$work/array.ids")
  [ -n "$array_id" ] && [ -n "$merge_id" ] || { cat "$work/array.ids"; fail "submit-array.sh printed no job ids"; }
  show_array() { for f in "$work/array/"*.out; do echo "----- $f" >&2; grep -v " info: " "$f" | tail -n 30 >&2; done; }
  # Slice 0 interrupted as at a time limit: it must requeue itself, resume, and the merge still wait for it.
  wait_for_checkpoint "$work/array" "${array_id}_0" ||
    { show_array; fail "array: no checkpoint.pt while slice 0 ran (the slices need 'ganleaks run --slice i/N', issue #7)"; }
  scancel --signal=USR2 --batch "${array_id}_0"
  merge_state=$(final_state "$merge_id" 300)
  tasks=$(scontrol show job -o "$array_id" |
    sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*Restarts=\([0-9]*\) .*/\1:\2:\3/p' | sort | tr '\n' ' ')
  if [[ ! "$tasks" =~ ^0:COMPLETED:[1-9][0-9]*\ 1:COMPLETED:0\ $ ]] || [ "$merge_state" != COMPLETED ]; then
    show_array
    fail "array: tasks (id:state:restarts) ${tasks:-none}, expected 0:COMPLETED:1 1:COMPLETED:0; merge job" \
         "$merge_state. Needs the runner's 'ganleaks run --slice i/N' and exit code 75 on SIGUSR2 (issue #7)"
  fi
  grep -q "requeueing job" "$work/array/ganleaks-array-${array_id}_0.out" ||
    { show_array; fail "array: slice 0 came back, but not through exit code 75 and the script's requeue"; }
  merge_out="$work/array/ganleaks-merge-$merge_id.out"
  grep -q "15 already done" "$merge_out" ||
    { show_array; fail "array: the merge job computed jobs the slices should have done"; }
  "$python" "$root/tests/e2e/check_results.py" "$ref/tiny/results.h5" "$work/array/tiny/results.h5" ||
    fail "array: results differ from the run without Slurm"
  echo "   array job $array_id: tasks $tasks(id:state:restarts), merge job $merge_id $merge_state; $(elapsed $t0)"
fi

echo "== stop the cluster"
t0=$SECONDS
"$here/cluster.sh" stop "$cluster"
trap - EXIT
left=""
for name in slurmctld slurmd slurmstepd munged; do
  for pid in $(pgrep -x "$name" || true); do  # only this cluster's: its daemons carry the marker variable
    { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -qxF "GANLEAKS_TEST_CLUSTER=$cluster" && left+=" $name($pid)"
  done
done
[ -z "$left" ] || fail "daemons left behind:$left"
echo "   $(elapsed $t0)"
echo "slurm test: all checks passed in $(elapsed $t_start)"
