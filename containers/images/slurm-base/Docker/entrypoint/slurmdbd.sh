# Role slurmdbd: `slurmdbd -D` as SlurmUser (setpriv execs it). Its pod names the database in SLURM_WAIT_FOR.
# slurmdbd.conf (it holds the database password) comes from the Secret and becomes SlurmUser's 0600, as slurmdbd
# demands. Sourced by entrypoint.sh after lib.sh.
# shellcheck shell=bash

role_validate() {
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    require_file "$SLURMDBD_CONF_SOURCE" "slurmdbd.conf"
}

role_plan() {
    SLURM_USER=$(conf_value "$SLURMDBD_CONF_SOURCE" SlurmUser)
    SLURM_USER=${SLURM_USER:-root}
    DAEMON=slurmdbd
    exec_as_slurm_user slurmdbd -D "$@"
}

role_prepare() {
    place_file "$SLURMDBD_CONF_SOURCE" "$SLURM_ETC/slurmdbd.conf" "$SLURM_USER" 0600 ||
        die "cannot install $SLURM_ETC/slurmdbd.conf owned by $SLURM_USER (the container needs CAP_CHOWN)"
    owned_dir /run/slurmdbd "$SLURM_USER"
    install_jwt_key
    # From the mounted Secret: the installed copy is unreadable to a root without CAP_DAC_OVERRIDE.
    prepare_pid_file "$SLURMDBD_CONF_SOURCE" PidFile /run/slurmdbd.pid "$SLURM_USER"
}

# Ready when DbdPort accepts connections on 127.0.0.1. The mounted Secret is readable; the installed copy
# (SlurmUser's, 0600) is not without CAP_DAC_OVERRIDE.
role_probe() {
    local port="" conf
    for conf in "$SLURMDBD_CONF_SOURCE" "$SLURM_ETC/slurmdbd.conf"; do
        if [[ -r "$conf" ]]; then
            port=$(conf_value "$conf" DbdPort)
            break
        fi
    done
    port=${port:-6819}
    tcp_open 127.0.0.1 "$port" "$PROBE_TIMEOUT_SECONDS" || die "slurmdbd does not accept connections on 127.0.0.1:$port"
}
