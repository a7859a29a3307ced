#!/usr/bin/env bash
# Entrypoint of the ai-hyperscaler Slurm image: one image, four roles, one script each beside this one.
#
#   entrypoint.sh <role> [daemon args...]   start a role: slurmdbd | slurmctld | compute | login | restapi
#   entrypoint.sh probe <role>              readiness check: exit 0 when the role is ready
#
# lib.sh holds what the roles share and documents every environment variable (SLURM_WAIT_FOR: the host:port
# pairs to wait for before the daemon starts; ENTRYPOINT_DRY_RUN=1 prints the plan and starts nothing).
set -euo pipefail
# Directories made here are 0755 and config copies get their mode explicitly, whatever umask the runtime set.
umask 0022

readonly ROLES=(slurmdbd slurmctld compute login restapi)
HERE=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
readonly HERE
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=wait.sh
source "$HERE/wait.sh"
# shellcheck source=users.sh
source "$HERE/users.sh"
# shellcheck source=jwt.sh
source "$HERE/jwt.sh"

usage() {
    printf 'usage: entrypoint.sh <role> [daemon args...]\n       entrypoint.sh probe <role>\n' >&2
    printf 'roles: %s\n' "${ROLES[*]}" >&2
}

main() {
    local action=start role
    case "${1-}" in
    -h | --help | help) usage && return 0 ;;
    probe) action=probe && shift ;;
    esac
    role=${1-}
    ROLE=$role
    [[ $action == start ]] || ROLE="probe/${role:-?}"
    [[ -n "$role" ]] ||
        die "no role given (usage: entrypoint.sh <role> [daemon args...] | entrypoint.sh probe <role>);" \
            "allowed roles: ${ROLES[*]}"
    [[ " ${ROLES[*]} " == *" $role "* ]] || die "unknown role \"$role\"; allowed roles: ${ROLES[*]}"
    shift
    # shellcheck source=/dev/null
    source "$HERE/$role.sh"
    if [[ $action == probe ]]; then role_probe; else start_role "$@"; fi
}

main "$@"
