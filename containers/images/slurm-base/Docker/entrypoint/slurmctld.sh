# Role slurmctld: the controller, `slurmctld -D` as SlurmUser (setpriv execs it, so it stays PID 1 and gets SIGTERM).
# Its pod names slurmdbd in SLURM_WAIT_FOR: slurmctld exits on a first start while slurmdbd is unreachable.
# Sourced by entrypoint.sh after lib.sh. In the background it brings the users' Slurm associations to the users'
# list (accounts.sh) once slurmctld has registered the cluster.
# shellcheck shell=bash
# shellcheck source=accounts.sh
source "$HERE/accounts.sh"

role_validate() {
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    collect_config_files
}

role_plan() {
    SLURM_USER=$(conf_value "$SLURM_CONFIG_SOURCE/slurm.conf" SlurmUser)
    SLURM_USER=${SLURM_USER:-root}
    DAEMON=slurmctld
    exec_as_slurm_user slurmctld -D "$@"
}

# StateSaveLocation is a persistent volume that Kubernetes mounts root-owned: hand it over on the first start.
# Later starts find it SlurmUser's and leave it alone: slurmctld keeps 0700 directories in it that root could not
# even list without CAP_DAC_READ_SEARCH.
role_prepare() {
    local conf="$SLURM_ETC/slurm.conf" state
    state=$(conf_value "$conf" StateSaveLocation)
    state=${state:-/var/spool/slurmctld}
    mkdir -p "$state"
    if [[ "$(stat -c %U "$state")" != "$SLURM_USER" ]]; then
        chown -R "$SLURM_USER:$(id -gn "$SLURM_USER")" "$state" ||
            die "cannot hand StateSaveLocation $state to $SLURM_USER (the container needs CAP_CHOWN)"
    fi
    owned_dir /run/slurmctld "$SLURM_USER"
    prepare_pid_file "$conf" SlurmctldPidFile /run/slurmctld.pid "$SLURM_USER"
    install_jwt_key
    # A child of the daemon once the entrypoint execs it; it ends when the associations are made.
    sync_accounts &
}

# An open port is not readiness (slurmctld listens while it still waits for slurmdbd): ask it with `scontrol ping`,
# at 127.0.0.1 through a copy of slurm.conf, so that the probe never depends on the controller's Service, whose
# address may only resolve once this very probe has made the pod ready. SlurmctldHost is this pod's hostname.
role_probe() {
    local conf="$SLURM_ETC/slurm.conf" local_conf output status=0
    local keys='(SlurmctldHost|ControlMachine|ControlAddr|BackupController|BackupAddr)'
    [[ -r "$conf" ]] || die "no $conf yet"
    local_conf=$(mktemp /tmp/probe-slurm.conf.XXXXXX)
    {
        grep -v -i -E "^[[:space:]]*$keys[[:space:]]*=" "$conf" || true
        printf 'SlurmctldHost=%s(127.0.0.1)\n' "$(hostname -s)"
    } >"$local_conf"
    output=$(SLURM_CONF="$local_conf" timeout "$PROBE_TIMEOUT_SECONDS" scontrol ping 2>&1) || status=$?
    rm -f "$local_conf"
    [[ $status -eq 0 && "$output" == *" is UP"* ]] ||
        die "slurmctld does not answer scontrol ping as UP: ${output:-no answer}"
}
