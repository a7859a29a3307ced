# Role restapi: slurmrestd, the REST API, as its own user `slurmrestd` (slurmrestd refuses to run as root or as
# SlurmUser). Its callers authenticate with a JWT (`scontrol token`) that it passes on to slurmctld and slurmdbd;
# SLURM_JWT=daemon makes it use JWTs itself too, so the pod has no MUNGE key and runs no munged. Its pod names
# slurmctld in SLURM_WAIT_FOR. slurmrestd unshares its System V IPC and file namespaces at start, which needs
# CAP_SYS_ADMIN in a pod (a real Kind cluster refused it: "Unable to unshare System V namespace"): SLURMRESTD_SECURITY
# turns those two steps off, as Slinky's operator does; it still refuses root and SlurmUser. Sourced by entrypoint.sh
# after lib.sh.
# shellcheck shell=bash

readonly RESTAPI_USER=slurmrestd
readonly RESTAPI_LISTEN="${RESTAPI_LISTEN:-0.0.0.0:6820}"
NEEDS_MUNGE=0

role_validate() {
    (($# == 0)) || die "the restapi role takes no arguments, got: $(quoted "$@")"
    collect_config_files
}

role_plan() {
    DAEMON=slurmrestd
    EXEC_ARGV=(setpriv "--reuid=$RESTAPI_USER" "--regid=$RESTAPI_USER" --clear-groups --
        env SLURM_JWT=daemon SLURMRESTD_SECURITY=disable_unshare_files,disable_unshare_sysv
        slurmrestd -a rest_auth/jwt "$RESTAPI_LISTEN")
}

role_prepare() {
    id -u "$RESTAPI_USER" >/dev/null 2>&1 || die "no $RESTAPI_USER user in the image"
}

role_probe() {
    tcp_open 127.0.0.1 "${RESTAPI_LISTEN##*:}" "$PROBE_TIMEOUT_SECONDS" ||
        die "slurmrestd does not accept connections on 127.0.0.1:${RESTAPI_LISTEN##*:}"
}
