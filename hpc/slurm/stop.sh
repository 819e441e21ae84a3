#!/usr/bin/env bash
# Stop the local Slurm cluster started by hpc/slurm/start.sh. Safe to run twice.
#   hpc/slurm/stop.sh               # stop slurmd, slurmctld, munged; keep the state directory
#   hpc/slurm/stop.sh --purge       # ... and remove the state directory ($ALGHARB_SLURM_DIR)
#   hpc/slurm/stop.sh --keep-munge  # stop the Slurm daemons only (used by start.sh)
set -euo pipefail

DIR=${ALGHARB_SLURM_DIR:-/tmp/algharb-slurm}
PURGE=0
KEEP_MUNGE=0
for arg in "$@"; do
    case "$arg" in
        --purge) PURGE=1 ;;
        --keep-munge) KEEP_MUNGE=1 ;;
        *) echo "usage: $0 [--purge] [--keep-munge]" >&2; exit 2 ;;
    esac
done

log() { printf '[slurm] %s\n' "$*" >&2; }

stop() {  # stop NAME PIDFILE: TERM the process named in PIDFILE, wait, then KILL
    local name=$1 pidfile=$2 pid
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name did not stop; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$pidfile"
}

# slurmd first (it kills running job steps), then the controller, then munge.
stop slurmd "$DIR/run/slurmd.pid"
stop slurmctld "$DIR/run/slurmctld.pid"
[ "$KEEP_MUNGE" = 1 ] && exit 0
stop munged "$DIR/run/munged.pid"

if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$DIR/etc/slurm.conf" ]; then
    rm -f /etc/slurm/slurm.conf
fi
if [ "$PURGE" = 1 ]; then
    rm -rf "$DIR"
    log "removed $DIR"
fi
log "stopped"
