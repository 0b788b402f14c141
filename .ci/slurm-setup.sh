# A real single-node Slurm on loopback for the `pixmo launch slurm` test (tests/it/slurm.rs).
# Sourced by .ci/run: installs slurm-wlm + munge (Debian), writes a minimal slurm.conf,
# starts munged, slurmctld and slurmd, waits until the node is idle, exports PIXMO_SLURM=1
# and stops the daemons when the sourcing shell exits. See shared/reference/CLUSTER.md for
# what works on Slurm 22.05 without systemd or cgroups.
# Usage: `source .ci/slurm-setup.sh` (or `bash .ci/slurm-setup.sh stop` to stop the daemons).

pixmo_slurm_stop() {
  local pidfile pid
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
}

pixmo_slurm_start() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "slurm-setup: needs root or sudo" >&2; return 1; }
    sudo="sudo"
  fi
  local started=$SECONDS
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null \
      || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; } \
      || return 1
  fi
  local host cpus
  host="$(hostname -s)"
  cpus="$(nproc)"
  $sudo mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
  if [ ! -f /etc/munge/munge.key ]; then
    $sudo dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none || return 1
  fi
  $sudo chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  $sudo chmod 400 /etc/munge/munge.key
  $sudo tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  # Daemons left by an earlier run of this script are replaced.
  pixmo_slurm_stop
  $sudo su -s /bin/sh munge -c '/usr/sbin/munged --force' || return 1
  $sudo /usr/sbin/slurmctld || return 1
  $sudo /usr/sbin/slurmd || return 1
  local deadline=$((SECONDS + 60)) state=""
  while [ $SECONDS -lt $deadline ]; do
    state="$(sinfo -h -n "$host" -o %t 2>/dev/null || true)"
    [ "$state" = idle ] && break
    sleep 1
  done
  if [ "$state" != idle ]; then
    echo "slurm-setup: node $host is \`$state\`, not idle, after 60 s" >&2
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    return 1
  fi
  echo "slurm-setup: node $host idle after $((SECONDS - started)) s"
}

if [ "${1:-}" = stop ]; then
  pixmo_slurm_stop
else
  pixmo_slurm_start || { echo "slurm-setup: failed; the Slurm test will fail under CI" >&2; false; }
  export PIXMO_SLURM=1
  # Stop the daemons when the sourcing shell exits, after any EXIT trap it already has.
  pixmo_slurm_previous_trap="$(trap -p EXIT | sed "s/^trap -- '\\(.*\\)' EXIT\$/\\1/")"
  trap "${pixmo_slurm_previous_trap:+$pixmo_slurm_previous_trap; }pixmo_slurm_stop" EXIT
fi
