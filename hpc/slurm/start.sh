#!/usr/bin/env bash
# Start a real single-node Slurm cluster on localhost, for tests and demos.
#
#   hpc/slurm/start.sh          # install (if needed), configure, start, wait until idle
#   hpc/slurm/stop.sh           # stop the daemons again
#
# Debian's slurm-wlm (22.05) + munge, started by hand (no systemd needed), as
# root. Two partitions on the one node: `cpu` (default) and `gpu`. The node
# advertises fake GPUs (`Gres=gpu:N`, device files that are /dev/null), so
# jobs that ask for `--gpus` are scheduled exactly as on a GPU cluster; there
# is no GPU behind them. Everything (config, munge key, state, logs) lives in
# $ALGHARB_SLURM_DIR (default /tmp/algharb-slurm). Safe to run twice: a
# running cluster is left alone.
#
# Settings (environment):
#   ALGHARB_SLURM_DIR     state directory            [/tmp/algharb-slurm]
#   ALGHARB_SLURM_CPUS    CPUs of the node           [2]
#   ALGHARB_SLURM_MEM_MB  RealMemory of the node     [3/4 of this machine's memory]
#   ALGHARB_SLURM_GPUS    fake GPUs of the node      [8]
#   ALGHARB_SLURM_MIN_JOB_AGE  seconds slurmctld keeps a finished job [3600]
#       (`slurm-status-command: squeue` in profiles/slurm needs >= 300)
#   ALGHARB_SLURM_CTLD_PORT, ALGHARB_SLURM_SLURMD_PORT   [6817, 6818]
#   ALGHARB_SLURM_LINK_ETC  1: link /etc/slurm/slurm.conf to our config when
#       that file is absent (so plain `sinfo` works without SLURM_CONF)  [1]
set -euo pipefail

DIR=${ALGHARB_SLURM_DIR:-/tmp/algharb-slurm}
CPUS=${ALGHARB_SLURM_CPUS:-2}
GPUS=${ALGHARB_SLURM_GPUS:-8}
MIN_JOB_AGE=${ALGHARB_SLURM_MIN_JOB_AGE:-3600}
CTLD_PORT=${ALGHARB_SLURM_CTLD_PORT:-6817}
SLURMD_PORT=${ALGHARB_SLURM_SLURMD_PORT:-6818}
LINK_ETC=${ALGHARB_SLURM_LINK_ETC:-1}
NODE=localhost
CONF=$DIR/etc/slurm.conf
export SLURM_CONF=$CONF

log() { printf '[slurm] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" != 0 ]; then
    die "run as root (slurmd must start job processes as any user)"
fi

alive() {  # alive PIDFILE: is the process named in PIDFILE running?
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v munged >/dev/null || ! command -v sinfo >/dev/null; then
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# 2. Configuration: written to a temporary file and installed when it differs
# from the one in place (then running daemons are restarted to read it).
mkdir -p "$DIR"/{etc,munge,log,run,state,spool/slurmd-$NODE,dev}
chmod 0700 "$DIR/munge"
if [ -z "${ALGHARB_SLURM_MEM_MB:-}" ]; then
    total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
    ALGHARB_SLURM_MEM_MB=$((total_kb * 3 / 4 / 1024))
fi
cat >"$CONF.new" <<CONF
# Written by hpc/slurm/start.sh: a single-node test cluster on localhost.
ClusterName=algharb
SlurmctldHost=$NODE
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/slurmd-%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups here (containers, no systemd): track processes by parentage.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
# No accounting database (slurmdbd): squeue answers the status queries of
# profiles/slurm, so finished jobs must stay visible long enough (>= 300 s).
AccountingStorageType=accounting_storage/none
MinJobAge=$MIN_JOB_AGE
# Slurm's own record of every finished job: partition, state, exit code,
# allocated CPUs and memory. Read it with \`sacct --completion\`.
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/log/jobcomp.txt
KillWait=5
InactiveLimit=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$ALGHARB_SLURM_MEM_MB Gres=gpu:$GPUS State=UNKNOWN
PartitionName=cpu Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$NODE Default=NO MaxTime=INFINITE State=UP
CONF
# Fake GPUs: gres/gpu drops file-less GPUs, so each gets a device file that is
# /dev/null underneath (char 1:3; a regular file where mknod is not allowed).
# Nothing binds them (task/none); Slurm counts them, schedules --gpus against
# them and sets SLURM_GPUS_ON_NODE and friends for the job.
rm -f "$DIR"/dev/fakegpu*
for i in $(seq 0 $((GPUS - 1))); do
    mknod "$DIR/dev/fakegpu$i" c 1 3 2>/dev/null || : >"$DIR/dev/fakegpu$i"
done
printf 'NodeName=%s Name=gpu File=%s/dev/fakegpu[0-%s]\n' "$NODE" "$DIR" "$((GPUS - 1))" >"$DIR/etc/gres.conf.new"
if ! cmp -s "$CONF.new" "$CONF" || ! cmp -s "$DIR/etc/gres.conf.new" "$DIR/etc/gres.conf"; then
    if alive "$DIR/run/slurmctld.pid" || alive "$DIR/run/slurmd.pid"; then
        log "configuration changed: restarting slurmctld and slurmd"
        ALGHARB_SLURM_DIR=$DIR "$(dirname "$0")/stop.sh" --keep-munge
    fi
    mv "$CONF.new" "$CONF"
    mv "$DIR/etc/gres.conf.new" "$DIR/etc/gres.conf"
else
    rm -f "$CONF.new" "$DIR/etc/gres.conf.new"
fi
cp /etc/slurm/plugstack.conf "$DIR/etc/" 2>/dev/null || true
if [ "$LINK_ETC" = 1 ] && [ ! -e /etc/slurm/slurm.conf ]; then
    mkdir -p /etc/slurm
    ln -s "$CONF" /etc/slurm/slurm.conf
fi

# 3. munge (its own key and socket, so a system munged is left alone).
if ! alive "$DIR/run/munged.pid"; then
    if [ ! -s "$DIR/munge/munge.key" ]; then
        dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
        chmod 0400 "$DIR/munge/munge.key"
    fi
    log "starting munged"
    munged --force --socket="$DIR/munge/munge.socket" \
        --key-file="$DIR/munge/munge.key" --pid-file="$DIR/run/munged.pid" \
        --log-file="$DIR/log/munged.log" --seed-file="$DIR/munge/munged.seed"
fi

# 4. slurmctld and slurmd.
if ! alive "$DIR/run/slurmctld.pid"; then
    log "starting slurmctld"
    slurmctld -f "$CONF" -i
fi
if ! alive "$DIR/run/slurmd.pid"; then
    log "starting slurmd"
    slurmd -f "$CONF" -N "$NODE"
fi

# 5. Wait until the node takes jobs.
started=$SECONDS
deadline=$((SECONDS + ${ALGHARB_SLURM_START_TIMEOUT:-60}))
state=""
while [ $SECONDS -lt $deadline ]; do
    for daemon in slurmctld slurmd; do
        # A daemon that died (bad configuration) has left its pid file behind,
        # or never wrote one.
        pidfile="$DIR/run/$daemon.pid"
        if { [ -s "$pidfile" ] && ! alive "$pidfile"; } \
            || { [ ! -s "$pidfile" ] && [ $SECONDS -gt $((started + 15)) ]; }; then
            tail -n 20 "$DIR/log/$daemon.log" >&2 || true
            die "$daemon is not running (log: $DIR/log/$daemon.log)"
        fi
    done
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null | sort -u | head -1 || true)
    case "$state" in
        idle|mixed|allocated|completing) break ;;
        down*|drain*|fail*|inval*)
            scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 1
done
case "$state" in
    idle|mixed|allocated|completing) ;;
    *) tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
       die "node $NODE is '${state:-unreachable}' after ${ALGHARB_SLURM_START_TIMEOUT:-60}s" ;;
esac

sinfo >&2
log "Slurm is up (node $NODE: $state). Config: $CONF"
log "  use it:  export SLURM_CONF=$CONF"
log "  stop it: hpc/slurm/stop.sh"
