# The lab's users, from the users' ConfigMap (`slurm.users`): its passwd and group fragments are appended to
# /etc/passwd and /etc/group at every start, so that a user added or removed needs no image rebuild (the
# ConfigMap's checksum rolls the pods). Roles with MAKE_HOMES=1 (compute, login) make each user's home, 0700 and
# theirs, unless it exists (the shared /home). Sourced by entrypoint.sh after lib.sh.
#
#   SLURM_USERS_SOURCE  /etc/slurm-users  passwd, group, authorized_keys.<user> (ConfigMap); absent: no users
#   ETC_PASSWD, ETC_GROUP, HOME_ROOT       /etc/passwd, /etc/group, /home: where they go (tests override them)
# shellcheck shell=bash

readonly SLURM_USERS_SOURCE="${SLURM_USERS_SOURCE:-/etc/slurm-users}"
readonly ETC_PASSWD="${ETC_PASSWD:-/etc/passwd}"
readonly ETC_GROUP="${ETC_GROUP:-/etc/group}"
readonly HOME_ROOT="${HOME_ROOT:-/home}"

MAKE_HOMES=0    # 1: make each user's home (roles where jobs or logins run)
USER_NAMES=()   # the users, in the fragment's order
PASSWD_LINES=() # the fragments' lines, checked
GROUP_LINES=()

readonly PASSWD_ENTRY='^[a-z_][a-z0-9_-]{0,31}:x:[0-9]+:[0-9]+:[^:]*:/[^:]*:/[^:]*$'
readonly GROUP_ENTRY='^[a-z_][a-z0-9_-]{0,31}:x:[0-9]+:[a-z0-9_,-]*$'

# Reads one fragment into the array named $3, refusing a line that is not an entry of its file (no side effects).
read_fragment() {
    local file=$1 pattern=$2 line
    local -n into=$3
    into=()
    require_file "$file" "$(basename "$file") of the users"
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ -n "$line" ]] || continue
        [[ "$line" =~ $pattern ]] || die "$file has a line that is not a $(basename "$file") entry: \"$line\""
        into+=("$line")
    done <"$file"
}

collect_users() {
    local line
    USER_NAMES=()
    [[ -e "$SLURM_USERS_SOURCE/passwd" ]] || return 0
    read_fragment "$SLURM_USERS_SOURCE/passwd" "$PASSWD_ENTRY" PASSWD_LINES
    read_fragment "$SLURM_USERS_SOURCE/group" "$GROUP_ENTRY" GROUP_LINES
    for line in "${PASSWD_LINES[@]}"; do USER_NAMES+=("${line%%:*}"); done
}

# Appends LINE to FILE unless it is there already (a restarted container); refuses an entry of the same name or id
# that differs: the image's own accounts are never shadowed.
append_entry() {
    local file=$1 line=$2 name id
    name=${line%%:*}
    id=$(cut -d: -f3 <<<"$line")
    grep -qxF -- "$line" "$file" && return 0
    if awk -F: -v n="$name" -v i="$id" '$1 == n || $3 == i { found = 1 } END { exit !found }' "$file"; then
        die "$file already has an entry named $name or with id $id; not adding \"$line\""
    fi
    printf '%s\n' "$line" >>"$file" || die "cannot append to $file"
}

install_users() {
    local line name uid gid
    ((${#PASSWD_LINES[@]} + ${#GROUP_LINES[@]} > 0)) || return 0
    for line in "${GROUP_LINES[@]}"; do append_entry "$ETC_GROUP" "$line"; done
    for line in "${PASSWD_LINES[@]}"; do append_entry "$ETC_PASSWD" "$line"; done
    if ((MAKE_HOMES)); then
        mkdir -p "$HOME_ROOT"
        for line in "${PASSWD_LINES[@]}"; do
            IFS=: read -r name _ uid gid _ <<<"$line"
            [[ -d "$HOME_ROOT/$name" ]] && continue
            # Made 0700 and only then given away: chmod of another's directory would take CAP_FOWNER.
            mkdir -m 0700 "$HOME_ROOT/$name" && chown "$uid:$gid" "$HOME_ROOT/$name" ||
                die "cannot make $HOME_ROOT/$name for $name (the container needs CAP_CHOWN)"
        done
    fi
    log "users: ${USER_NAMES[*]:-(none)}"
}

users_plan() {
    local name
    for name in "${USER_NAMES[@]}"; do
        plan "user $name"
        ((MAKE_HOMES == 0)) || plan "home $HOME_ROOT/$name 0700"
    done
}
