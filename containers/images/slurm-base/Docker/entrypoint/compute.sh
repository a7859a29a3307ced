# Role compute: `slurmd -D` plus the pod's arguments (e.g. `-Z --conf "CPUs=1 ... Feature=compute"` for a dynamic
# node), under tini, which forwards signals to slurmd and reaps the slurmstepd processes it orphans (as PID 1
# itself, slurmd leaves one zombie per job step); -s also reaps them when tini is not PID 1 (a shared process
# namespace). slurmd runs as root. Its pod names slurmctld in SLURM_WAIT_FOR. Sourced by entrypoint.sh after lib.sh.
# shellcheck shell=bash

# Jobs run in their user's home on this node: the entrypoint makes them (users.sh) unless /home is shared.
MAKE_HOMES=1

role_validate() {
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    collect_config_files
}

role_plan() {
    DAEMON=slurmd
    EXEC_ARGV=(tini -s -- slurmd -D "$@")
}

role_prepare() {
    local spool
    spool=$(conf_value "$SLURM_ETC/slurm.conf" SlurmdSpoolDir)
    mkdir -p "${spool:-/var/spool/slurmd}" /run/slurmd
    prepare_pid_file "$SLURM_ETC/slurm.conf" SlurmdPidFile /run/slurmd.pid root
}

role_probe() {
    timeout "$PROBE_TIMEOUT_SECONDS" scontrol show slurmd >/dev/null 2>&1 ||
        die "the local slurmd does not answer scontrol show slurmd"
}
