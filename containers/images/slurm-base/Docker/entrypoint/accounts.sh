# The users' Slurm accounting: each user of the users' ConfigMap gets an association with the account `users`,
# and an association of a user no longer listed is removed (their jobs stay in the accounting history). Run by the
# slurmctld role in the background once slurmctld has registered the cluster with slurmdbd; idempotent, so every
# start (a changed ConfigMap rolls the pod) brings the associations to the list. Sourced by slurmctld.sh.
# shellcheck shell=bash

readonly SLURM_USERS_ACCOUNT="${SLURM_USERS_ACCOUNT:-users}"

# Prints the lines of stdin that are not in the word list "$@".
not_in() {
    local line
    while IFS= read -r line; do
        [[ -n "$line" && " $* " != *" $line "* ]] && printf '%s\n' "$line"
    done
    return 0
}

sync_accounts() {
    local cluster deadline current user account=$SLURM_USERS_ACCOUNT
    cluster=$(conf_value "$SLURM_ETC/slurm.conf" ClusterName)
    deadline=$((SECONDS + SLURM_WAIT_TIMEOUT_SECONDS))
    until sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qxF "$cluster"; do
        ((SECONDS < deadline)) || die "accounts: cluster $cluster not in slurmdbd after ${SLURM_WAIT_TIMEOUT_SECONDS} s"
        pause_ms 500
    done
    if ! sacctmgr -n -P show account "$account" format=account | grep -qxF "$account"; then
        sacctmgr -i add account "$account" "cluster=$cluster" "Description=the lab's users" Organization=lab >&2 ||
            die "accounts: cannot add the account $account"
    fi
    current=$(sacctmgr -n -P show association where "account=$account" "cluster=$cluster" format=user)
    for user in $(printf '%s\n' "${USER_NAMES[@]}" | not_in $current); do
        sacctmgr -i add user "$user" "account=$account" "cluster=$cluster" >&2 || die "accounts: cannot add $user"
    done
    for user in $(not_in "${USER_NAMES[@]}" <<<"$current"); do
        sacctmgr -i remove user where "name=$user" "account=$account" "cluster=$cluster" >&2 ||
            die "accounts: cannot remove $user"
    done
    log "accounts: ${USER_NAMES[*]:-(no users)} in account $account of cluster $cluster"
}
