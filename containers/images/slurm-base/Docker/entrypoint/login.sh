# Role login: sshd for the lab's users (keys only, no root: /etc/ssh/sshd_config of the image), munged and the
# configs for the Slurm commands. PID 1 is tini over `sshd -D -e`; SIGTERM (143), SIGINT (130) and sshd's own exit on
# them (255) end it with status 0. The host key comes from its Secret, each user's keys from the users' ConfigMap,
# installed root-owned where sshd_config's AuthorizedKeysFile looks, so that no user can change them. Its pod
# names slurmctld in SLURM_WAIT_FOR, so sshd only starts once commands can reach the controller. Sourced by
# entrypoint.sh after lib.sh.
#
#   SSH_HOST_KEY_SOURCE  /etc/ssh-host-key/ssh_host_ed25519_key  (Secret)
#   SSH_ETC              /etc/ssh                                 host key and authorized_keys/<user> go here
# shellcheck shell=bash

readonly SSH_HOST_KEY_SOURCE="${SSH_HOST_KEY_SOURCE:-/etc/ssh-host-key/ssh_host_ed25519_key}"
readonly SSH_ETC="${SSH_ETC:-/etc/ssh}"
MAKE_HOMES=1

role_validate() {
    (($# == 0)) || die "the login role runs no daemon with arguments (sshd is configured by the image), got: $(quoted "$@")"
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    require_file "$SSH_HOST_KEY_SOURCE" "SSH host key"
    collect_config_files
}

role_plan() {
    DAEMON=sshd
    EXEC_ARGV=(tini -s -e 143 -e 130 -e 255 -- /usr/sbin/sshd -D -e)
}

role_prepare() {
    local name keys
    place_file "$SSH_HOST_KEY_SOURCE" "$SSH_ETC/ssh_host_ed25519_key" root 0600 ||
        die "cannot install $SSH_ETC/ssh_host_ed25519_key"
    mkdir -p "$SSH_ETC/authorized_keys" /run/sshd
    for name in "${USER_NAMES[@]}"; do
        keys="$SLURM_USERS_SOURCE/authorized_keys.$name"
        [[ -e "$keys" ]] || continue
        place_file "$keys" "$SSH_ETC/authorized_keys/$name" root 0644 ||
            die "cannot install $SSH_ETC/authorized_keys/$name"
    done
    # A bad sshd_config or host key fails here, naming the cause, rather than in a restart loop.
    /usr/sbin/sshd -t || die "sshd -t refuses its configuration or host key"
}

role_probe() {
    timeout "$PROBE_TIMEOUT_SECONDS" sinfo >/dev/null 2>&1 ||
        die "sinfo does not answer within ${PROBE_TIMEOUT_SECONDS} s"
}
