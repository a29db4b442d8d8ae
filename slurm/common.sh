# shellcheck shell=bash
# Sourced by the batch scripts in slurm/ once they know the checkout ($root): the ranks' environment, and
# `ganleaks_step ARGS...`, which runs `ganleaks ARGS...` on every task of the allocation with the time-limit
# handling the scripts share:
#
#  - The ranks are one job step, `srun --mpi=pmix` (Debian's Open MPI has no PMI2 support), one rank per task,
#    --cpus-per-task threads each; GANLEAKS_LAUNCHER=mpirun starts them with mpirun inside the allocation.
#  - SIGUSR2 (sent by Slurm before the time limit with `--signal=B:USR2@<seconds>`, or by
#    `scancel --signal=USR2 --batch <job>`) or SIGTERM to the batch shell is passed on to the step as SIGUSR2,
#    the runner's checkpoint signal (mpirun would kill its ranks on TERM; srun passes USR2 on to every task).
#    Every rank then finishes or checkpoints what it is doing and `ganleaks run` exits with 75.
#  - Exit code 75 ("interrupted, resumable"): the job requeues itself (`scontrol requeue`) and exits 0. The
#    restarted job (same id, SLURM_RESTART_COUNT = 1, 2, ...) runs the same command, which resumes: finished
#    jobs are skipped, interrupted training continues from its checkpoint. Not when Slurm itself ended the
#    job with SIGTERM: after `scontrol requeue <job>` or a preemption it is requeued anyway; after `scancel`
#    or at the time limit itself it stays ended (CANCELLED, TIMEOUT) and resubmitting the same command
#    resumes. Nor after GANLEAKS_MAX_RESTARTS restarts (default 50: a time limit too short for any progress
#    must not requeue forever); the job then ends with 75.
#  - Any other exit code is the job's: 0 the sweep (or slice) is complete, 2 bad input, others a failure.
#
# Environment: GANLEAKS_BIN (default build/release/src/ganleaks of the checkout), GANLEAKS_LAUNCHER (srun or
# mpirun), GANLEAKS_MAX_RESTARTS; everything in launch/common.sh (Open MPI as root, one BLAS thread, HDF5
# without file locking for NFS/Lustre).

: "${root:?slurm/common.sh needs \$root, the ganleaks checkout}"
ganleaks_script="${ganleaks_script:-${SLURM_JOB_NAME:-ganleaks}}"
ganleaks_fail() { echo "$ganleaks_script: $*" >&2; exit 2; }
[ -n "${SLURM_JOB_ID:-}" ] || ganleaks_fail "not in a Slurm job: submit it with sbatch (launch/mpi runs ganleaks without Slurm)"

_ganleaks_user_bin="${GANLEAKS_BIN:-}"
# launch/common.sh picks shared-memory transport only, which cannot reach ranks on other nodes.
if [ "${SLURM_JOB_NUM_NODES:-1}" -gt 1 ]; then export OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader,tcp}"; fi
# shellcheck source=/dev/null
source "$root/launch/common.sh"
[ -z "$_ganleaks_user_bin" ] || GANLEAKS_BIN="$_ganleaks_user_bin"
[ -x "$GANLEAKS_BIN" ] || ganleaks_fail "$GANLEAKS_BIN missing; run launch/build before submitting (the job does not build)"
# Each rank's LibTorch uses the CPUs Slurm gave its task.
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"
# Without --ntasks or --ntasks-per-node a job has one task per node, and SLURM_NTASKS is not set.
ganleaks_ranks="${SLURM_NTASKS:-${SLURM_JOB_NUM_NODES:-1}}"
ganleaks_launcher="${GANLEAKS_LAUNCHER:-srun}"
case "$ganleaks_launcher" in
  srun|mpirun) ;;
  *) ganleaks_fail "GANLEAKS_LAUNCHER must be srun or mpirun, got '$ganleaks_launcher'" ;;
esac

_ganleaks_on_signal() {  # trap handler: remember, pass the checkpoint request on to the step
  _ganleaks_signalled=1
  [ "$1" != TERM ] || _ganleaks_terminated=1
  echo "$ganleaks_script: got SIG$1, asking the ranks to checkpoint and stop (SIGUSR2)" >&2
  kill -USR2 "$_ganleaks_step" 2>/dev/null || true
}

_ganleaks_job_field() {  # _ganleaks_job_field NAME: this job's NAME=value in `scontrol show job`
  scontrol show job "$SLURM_JOB_ID" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

_ganleaks_requeue() {  # after exit code 75: requeue the job if that is what the interruption asked for
  local restarts="${SLURM_RESTART_COUNT:-0}" limit="${GANLEAKS_MAX_RESTARTS:-50}" now
  now=$(_ganleaks_job_field Restarts)
  if [ "${now:-0}" -gt "$restarts" ]; then  # `scontrol requeue` by hand, or preemption: Slurm requeued it already
    echo "$ganleaks_script: job $SLURM_JOB_ID is being requeued by Slurm; it resumes when it restarts" >&2
    exit 0
  fi
  if [ "$_ganleaks_terminated" = 1 ]; then  # SIGTERM: scancel, the time limit itself, a node shutdown
    echo "$ganleaks_script: job $SLURM_JOB_ID was ended by Slurm ($(_ganleaks_job_field JobState)); not requeued:" \
         "submit the same command again to resume" >&2
    exit 75
  fi
  if [ "$restarts" -ge "$limit" ]; then
    echo "$ganleaks_script: interrupted after $restarts restarts (GANLEAKS_MAX_RESTARTS=$limit); not requeued" >&2
    exit 75
  fi
  echo "$ganleaks_script: interrupted, resumable: requeueing job $SLURM_JOB_ID (restart $((restarts + 1)))" >&2
  # Requeueing ends this job's processes, this shell included: nothing below may matter.
  trap '' USR2 TERM
  scontrol requeue "$SLURM_JOB_ID" || { echo "$ganleaks_script: scontrol requeue $SLURM_JOB_ID failed" >&2; exit 75; }
  exit 0
}

ganleaks_step() {  # ganleaks_step ARGS...: `ganleaks ARGS...` on every task; exits with the job's code
  local job="${SLURM_JOB_ID:-?}"
  [ -z "${SLURM_ARRAY_JOB_ID:-}" ] || job="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} ($SLURM_JOB_ID)"
  echo "$ganleaks_script: job $job (restart ${SLURM_RESTART_COUNT:-0}) on ${SLURM_JOB_NODELIST:-?}," \
       "$ganleaks_ranks rank(s): ganleaks $*" >&2
  _ganleaks_signalled=0 _ganleaks_terminated=0
  trap '_ganleaks_on_signal USR2' USR2
  trap '_ganleaks_on_signal TERM' TERM
  if [ "$ganleaks_launcher" = srun ]; then
    # srun no longer inherits --cpus-per-task from the allocation (Slurm 22.05, it reads SRUN_CPUS_PER_TASK),
    # so pass it on. A rank that crashed must not leave the others waiting in a collective: --wait ends them
    # 60 s after the first task ended. Ranks leave MPI_Finalize together, so a normal end is not affected;
    # --kill-on-bad-exit instead would kill ranks still writing their checkpoint when another one exits 75
    # first (measured: srun then returns 143, not 75).
    srun --mpi=pmix --kill-on-bad-exit=0 --wait=60 ${SLURM_CPUS_PER_TASK:+--cpus-per-task="$SLURM_CPUS_PER_TASK"} \
      "$GANLEAKS_BIN" "$@" &
  else
    mpirun --oversubscribe --bind-to none -n "$ganleaks_ranks" "$GANLEAKS_BIN" "$@" &
  fi
  _ganleaks_step=$!
  # A signal that came while the step was starting (it had no pid yet).
  if [ "$_ganleaks_signalled" = 1 ]; then kill -USR2 "$_ganleaks_step" 2>/dev/null || true; fi
  # `wait` returns early when a trapped signal arrives; wait again until the step itself has ended.
  local rc step_rc=0 first=1
  while :; do
    _ganleaks_signalled=0
    rc=0
    wait "$_ganleaks_step" || rc=$?
    # 127 after an interrupted wait: the step had already been reaped, its code is the one from before.
    if [ $first = 1 ] || [ $rc -ne 127 ] || kill -0 "$_ganleaks_step" 2>/dev/null; then step_rc=$rc; fi
    first=0
    [ "$_ganleaks_signalled" = 1 ] || break
  done
  # From here on a SIGUSR2 is moot and a SIGTERM means Slurm is ending the job: neither may kill this shell.
  trap '' USR2
  trap '_ganleaks_terminated=1' TERM
  echo "$ganleaks_script: ganleaks exited with code $step_rc" >&2
  if [ "$step_rc" -eq 75 ]; then _ganleaks_requeue; fi
  exit "$step_rc"
}
