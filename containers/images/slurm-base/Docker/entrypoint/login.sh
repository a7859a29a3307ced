# Role login: no daemon, only munged and the configs for the client commands. PID 1 is tini idling until
# SIGTERM (143) or SIGINT (130), which end it with exit status 0; no shell stays behind. Its pod names slurmctld in
# SLURM_WAIT_FOR, so the pod only starts idling once commands can reach the controller. Sourced by entrypoint.sh.
# shellcheck shell=bash

role_validate() {
    (($# == 0)) || die "the login role runs no daemon and takes no arguments, got: $(quoted "$@")"
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    collect_config_files
}

role_plan() {
    EXEC_ARGV=(tini -s -e 143 -e 130 -- sleep infinity)
}

role_prepare() { :; }

role_probe() {
    timeout "$PROBE_TIMEOUT_SECONDS" sinfo >/dev/null 2>&1 ||
        die "sinfo does not answer within ${PROBE_TIMEOUT_SECONDS} s"
}
