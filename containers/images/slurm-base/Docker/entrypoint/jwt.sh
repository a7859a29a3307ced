# The JWT key of `AuthAltTypes=auth/jwt` (slurm.conf, slurmdbd.conf): slurmctld signs `scontrol token`s with it and
# slurmctld and slurmdbd check slurmrestd's callers' tokens. Like slurmdbd.conf, it becomes SlurmUser's 0600 in
# SLURM_ETC, where AuthAltParameters=jwt_key names it. Sourced by entrypoint.sh after lib.sh.
#
#   JWT_KEY_SOURCE  /etc/slurm-jwt/jwt_hs256.key  (Secret), slurmctld and slurmdbd; not mounted: no JWTs
# shellcheck shell=bash

readonly JWT_KEY_SOURCE="${JWT_KEY_SOURCE:-/etc/slurm-jwt/jwt_hs256.key}"

install_jwt_key() {
    [[ -e "$JWT_KEY_SOURCE" ]] || return 0
    require_file "$JWT_KEY_SOURCE" "JWT key"
    place_file "$JWT_KEY_SOURCE" "$SLURM_ETC/jwt_hs256.key" "$SLURM_USER" 0600 ||
        die "cannot install $SLURM_ETC/jwt_hs256.key owned by $SLURM_USER (the container needs CAP_CHOWN)"
}
