#!/usr/bin/env bash
# A real single-node Slurm cluster on localhost, for tests: Debian's slurmctld, slurmd and munge, configured
# without cgroups or accounting, with every state, spool, pid and log file under one folder and nothing written
# to /etc/slurm. The node has one pretend GPU per CPU (device nodes like /dev/null) when mknod is allowed.
#
#   eval "$(tests/slurm/cluster.sh start /tmp/cluster)"   # prints `export SLURM_CONF=/tmp/cluster/slurm.conf`
#   sbatch --wait --ntasks=2 --gpus-per-task=0 --cpus-per-task=1 slurm/ganleaks.sbatch cfg.toml
#   tests/slurm/cluster.sh stop /tmp/cluster               # cancels all jobs, stops the daemons it started
#
# start installs the packages when missing (slurmctld slurmd slurm-client munge; needs root, as the daemons
# do), starts munged unless one already answers (then that one is used, and left alone by stop), then
# `slurmctld -i` and `slurmd`, and waits until the node is idle; on failure it prints the daemons' logs, stops
# what it started and exits 1. stop cancels every job, `scontrol shutdown`s, ends the daemons recorded in
# STATE_DIR's pid files (TERM, then KILL) and any process those daemons left (slurmstepd), found by a marker
# variable in their environment; it is safe to call twice or from a trap. status shows what runs.
# Choices: no cgroups on a test machine (proctrack/linuxproc, task/none), no accounting (so `scontrol show
# job`, not sacct, tells how a job ended: MinJobAge keeps ended jobs for 10 minutes), free ports from 6817 on,
# EnforcePartLimits=ALL (an impossible request fails at submission instead of pending forever), a short
# credential lifetime and a scheduler pass every second (a requeued job starts again ~11 s later, not
# ~150 s), KillWait=10 (scancel or requeue ends a job within seconds).
set -euo pipefail

usage() { echo "usage: cluster.sh start|stop|status STATE_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action="$1"
if [ "$action" != start ] && [ ! -d "$2" ]; then [ "$action" = stop ] && exit 0; echo "no cluster in $2"; exit 1; fi
state="$(mkdir -p "$2" && cd "$2" && pwd)"
conf="$state/slurm.conf"
log() { echo "cluster.sh: $*" >&2; }

# The daemons started here carry this variable, so that a last-resort cleanup can find exactly them (and
# the slurmstepd processes they fork) without matching processes by name.
marker="GANLEAKS_TEST_CLUSTER=$state"

pid_alive() {  # pid_alive PIDFILE: the pid in the file runs and is the named program
  local file="$1" name="$2" pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

free_port() {  # free_port FROM: the first TCP port >= FROM that nothing listens on
  local port="$1"
  while [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; do port=$((port + 1)); done
  echo "$port"
}

install_packages() {
  local missing=()
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > "$state/apt.log" 2>&1 ||
         { apt-get update -qq >> "$state/apt.log" 2>&1 &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >> "$state/apt.log" 2>&1; }; }; then
    cat "$state/apt.log" >&2
    log "could not install ${missing[*]}"
    exit 1
  fi
}

write_config() {
  local host cpus mem_mb ctld_port slurmd_port
  host=$(hostname -s)
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # nproc obeys OMP_NUM_THREADS
  mem_mb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 9 / 10240 ))  # slurmd drains a node claiming more
  ctld_port=$(free_port 6817)
  slurmd_port=$(free_port $((ctld_port + 1)))
  mkdir -p "$state/ctld" "$state/spool" "$state/log" "$state/tmp"
  : > "$state/plugstack.conf"  # no SPANK plugins (the default would read /etc/slurm/plugstack.conf)
  # One pretend GPU per CPU, so that jobs can ask for GPUs as on a real cluster (--gpus-per-task=1) and
  # Slurm gives each task its own CUDA_VISIBLE_DEVICES. The "devices" are character nodes of /dev/null's
  # kind: nothing can compute on them, programs that look find no GPU. Without mknod (an unprivileged
  # container) the node has no GPUs and jobs must ask for none.
  local gres_types="" node_gres=""
  rm -rf "$state/dev"
  mkdir -p "$state/dev"
  local i ok=1
  for ((i = 0; i < cpus; i++)); do mknod "$state/dev/nvidia$i" c 1 3 2> /dev/null || { ok=0; break; }; done
  if [ $ok = 1 ]; then
    gres_types="GresTypes=gpu"
    node_gres="Gres=gpu:$cpus"
    echo "Name=gpu File=$state/dev/nvidia[0-$((cpus - 1))]" > "$state/gres.conf"
  else
    log "mknod is not allowed here: the test node has no (pretend) GPUs"
    rm -f "$state/gres.conf"
  fi
  cat > "$conf" <<EOF
# Written by tests/slurm/cluster.sh: a single-node test cluster on localhost.
ClusterName=ganleaks-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# Requeued jobs wait for their old credential to expire before they start again: ~30 s instead of ~150 s.
AuthInfo=cred_expire=10
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$state/plugstack.conf
TmpFS=$state/tmp
# No cgroups here: processes are tracked through /proc and tasks are not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
# Schedule every second: a requeued job starts as soon as its begin time (cred_expire + 1 s) has passed.
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=pmix
# A request the node cannot satisfy is refused at submission instead of pending forever.
EnforcePartLimits=ALL
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
# Seconds between SIGTERM and SIGKILL when a job is cancelled, requeued or hits its time limit.
KillWait=10
# Finished jobs stay visible to scontrol for 10 minutes.
MinJobAge=600
InactiveLimit=0
SlurmdTimeout=60
$gres_types
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb $node_gres State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=$((mem_mb / cpus))
EOF
  echo "$host" > "$state/node"
}

show_logs() {
  for f in "$state"/log/*.log "$state"/log/*.out "$state/munged.log"; do
    [ -s "$f" ] || continue
    echo "----- $f (last 40 lines)" >&2
    tail -n 40 "$f" >&2
  done
}

start_munge() {
  if munge -n < /dev/null 2>/dev/null | unmunge > /dev/null 2>&1; then
    log "using the munged already running"
    return 0
  fi
  [ -s /etc/munge/munge.key ] || { log "no /etc/munge/munge.key (the munge package creates it)"; exit 1; }
  # munged refuses to run as root ("Logfile is insecure"): it runs as munge, with its socket folder owned by munge.
  mkdir -p /run/munge
  chown munge:munge /run/munge
  chmod 0755 /run/munge
  env "$marker" runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid < /dev/null > "$state/munged.log" 2>&1 ||
    { cat "$state/munged.log" >&2; log "munged did not start"; exit 1; }
  cp /run/munge/munged.pid "$state/munged.pid"
  for _ in $(seq 50); do
    munge -n < /dev/null 2>/dev/null | unmunge > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  show_logs
  log "munged started but does not answer"
  exit 1
}

start() {
  if pid_alive "$state/slurmctld.pid" slurmctld || pid_alive "$state/slurmd.pid" slurmd; then
    log "a cluster already runs from $state; stop it first"
    exit 1
  fi
  [ "$(id -u)" = 0 ] || { log "needs root: slurmctld, slurmd and munged run as root or munge here"; exit 1; }
  install_packages
  write_config
  start_munge
  trap 'show_logs; stop > /dev/null 2>&1 || true' ERR
  local t0=$SECONDS
  # -i: ignore state left in StateSaveLocation by an earlier cluster in this folder.
  # Their output goes to files, so that no daemon holds the caller's stdout (ctest would wait for it).
  env "$marker" SLURM_CONF="$conf" /usr/sbin/slurmctld -i -f "$conf" < /dev/null > "$state/log/slurmctld.out" 2>&1
  env "$marker" SLURM_CONF="$conf" /usr/sbin/slurmd -f "$conf" < /dev/null > "$state/log/slurmd.out" 2>&1
  local node node_state=""
  node=$(cat "$state/node")
  for _ in $(seq 300); do  # 30 s
    node_state=$(SLURM_CONF="$conf" sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$node_state" = idle ] && break
    case "$node_state" in inval*|drain*) break ;; esac  # refused by slurmctld: waiting will not help
    sleep 0.1
  done
  if [ "$node_state" != idle ]; then
    show_logs
    log "node $node is '${node_state:-not answering}' after $((SECONDS - t0)) s, not idle (the logs above say why)"
    stop > /dev/null 2>&1 || true
    exit 1
  fi
  trap - ERR
  log "cluster up in $((SECONDS - t0)) s: node $node, $(grep -o "CPUs=[0-9]*" "$conf") $(grep -o "Gres=[a-z0-9:]*" "$conf" || true), $state"
  echo "export SLURM_CONF=$conf"
}

wait_gone() {  # wait_gone PID SECONDS: 0 once the process is gone
  local pid="$1"
  for _ in $(seq $(($2 * 10))); do
    [ -d "/proc/$pid" ] || return 0
    sleep 0.1
  done
  return 1
}

stop_daemon() {  # stop_daemon PIDFILE NAME: TERM, then KILL after 10 s
  local file="$1" name="$2" pid
  pid_alive "$file" "$name" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || { log "$name ($pid) ignored SIGTERM; killing it"; kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5 || true; }
  rm -f "$file"
}

marked_pids() {  # processes started by this cluster's daemons (slurmstepd included), by their environment
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" != $$ ] || continue
    { tr '\0' '\n' < "$p/environ"; } 2>/dev/null | grep -qxF "$marker" && echo "${p#/proc/}"
  done
  return 0
}

stop() {
  [ -f "$conf" ] || return 0
  export SLURM_CONF="$conf"
  if pid_alive "$state/slurmctld.pid" slurmctld; then
    local jobs
    jobs=$(squeue -h -o %i 2>/dev/null | sort -u || true)
    if [ -n "$jobs" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 150); do  # until the jobs' processes are gone (KillWait is 10 s)
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
    scontrol shutdown > /dev/null 2>&1 || true
  fi
  for d in slurmd slurmctld; do
    [ -s "$state/$d.pid" ] || continue
    if pid_alive "$state/$d.pid" "$d"; then wait_gone "$(cat "$state/$d.pid")" 10 || true; fi  # after shutdown
    stop_daemon "$state/$d.pid" "$d"
  done
  stop_daemon "$state/munged.pid" munged
  local left
  left=$(marked_pids)
  if [ -n "$left" ]; then
    log "left behind, killing: $(for p in $left; do printf '%s(%s) ' "$p" "$(cat "/proc/$p/comm" 2>/dev/null)"; done)"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
  fi
  log "cluster in $state stopped"
}

status() {
  [ -f "$conf" ] || { echo "no cluster in $state"; return 1; }
  for d in munged slurmctld slurmd; do
    if pid_alive "$state/$d.pid" "$d"; then echo "$d: running ($(cat "$state/$d.pid"))"; else echo "$d: not running"; fi
  done
  SLURM_CONF="$conf" sinfo 2>&1 || true
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
