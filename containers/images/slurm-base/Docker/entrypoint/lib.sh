# What every role of the Slurm image's entrypoint shares: settings, logging, checks of the mounts, the MUNGE key,
# config copies, and the sequence that ends in exec. Sourced by entrypoint.sh with wait.sh; the role script
# (slurmctld.sh, ...) then defines role_validate, role_plan, role_prepare and role_probe.
#
# Environment (defaults are where the Kubernetes pods mount things; tests override them):
#   SLURM_WAIT_FOR                 (none)                          host:port pairs to wait for, space-separated
#   SLURM_WAIT_TIMEOUT_SECONDS     300                             bound of each wait, then exit 1
#   SLURM_WAIT_MAX_BACKOFF_SECONDS 0.5                             longest pause between two attempts
#   PROBE_TIMEOUT_SECONDS          5                               bound of each readiness probe command
#   MUNGE_KEY_SOURCE               /etc/munge-secret/munge.key     the MUNGE key (Secret), all roles
#   SLURM_CONFIG_SOURCE            /etc/slurm-config               slurm.conf [cgroup.conf gres.conf ...] (ConfigMap)
#   SLURMDBD_CONF_SOURCE           /etc/slurm-secret/slurmdbd.conf (Secret), slurmdbd only
#   SLURM_ETC, MUNGE_ETC, MUNGE_RUN_DIR  /etc/slurm, /etc/munge, /run/munge: where the daemons read them
#   ENTRYPOINT_DRY_RUN             0: run; 1: validate, print the plan (copies, waits, exec) on stdout and exit
#                                  without side effects; wait: the same, but really perform the waits
# shellcheck shell=bash

readonly MUNGE_KEY_SOURCE="${MUNGE_KEY_SOURCE:-/etc/munge-secret/munge.key}"
readonly SLURM_CONFIG_SOURCE="${SLURM_CONFIG_SOURCE:-/etc/slurm-config}"
readonly SLURMDBD_CONF_SOURCE="${SLURMDBD_CONF_SOURCE:-/etc/slurm-secret/slurmdbd.conf}"
readonly SLURM_ETC="${SLURM_ETC:-/etc/slurm}"
readonly MUNGE_ETC="${MUNGE_ETC:-/etc/munge}"
readonly MUNGE_RUN_DIR="${MUNGE_RUN_DIR:-/run/munge}"
readonly SLURM_WAIT_FOR="${SLURM_WAIT_FOR-}"
readonly SLURM_WAIT_TIMEOUT_SECONDS="${SLURM_WAIT_TIMEOUT_SECONDS:-300}"
# Pauses between attempts grow 0.1, 0.2, 0.4 s up to this: a dependency that comes up is seen within it, which is
# what a chain of three waits (database, slurmdbd, slurmctld) adds to a bring-up.
readonly SLURM_WAIT_MAX_BACKOFF_SECONDS="${SLURM_WAIT_MAX_BACKOFF_SECONDS:-0.5}"
readonly PROBE_TIMEOUT_SECONDS="${PROBE_TIMEOUT_SECONDS:-5}"
readonly ENTRYPOINT_DRY_RUN="${ENTRYPOINT_DRY_RUN:-0}"

# The longest one connection attempt may take (name lookup included): a stalled lookup is retried, not waited out.
readonly CONNECT_TIMEOUT_SECONDS=3
# munged forks once its socket is ready; allow this long before `munge -n | unmunge` must work.
readonly MUNGE_READY_SECONDS=10
# A waiting entrypoint logs a failed attempt at most this often.
readonly WAIT_LOG_EVERY_SECONDS=5

ROLE=""          # the role being started or probed; the log prefix
SLURM_USER=""    # the daemon's SlurmUser (slurmctld, slurmdbd)
DAEMON=""        # the daemon's binary (none for login)
NEEDS_MUNGE=1    # 0: the role runs no munged (restapi)
CONFIG_FILES=()  # config files to copy from SLURM_CONFIG_SOURCE
WAIT_TARGETS=()  # host:port pairs from SLURM_WAIT_FOR, in order
EXEC_ARGV=()     # what PID 1 becomes

log() { printf 'entrypoint[%s]: %s\n' "${ROLE:-?}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# "$@" as one line that a shell would split back into the same words.
quoted() {
    local words
    words=$(printf '%q ' "$@")
    printf '%s' "${words% }"
}

# Dry-run output: one line per planned action, on stdout so a test can read it apart from the log.
plan() { printf '%s\n' "$*"; }
is_dry_run() { [[ "$ENTRYPOINT_DRY_RUN" != 0 && -n "$ENTRYPOINT_DRY_RUN" ]]; }

# Prints the value of KEY in a slurm.conf-style FILE (keys case-insensitive, `#` starts a comment, several
# Key=Value pairs may share a line; a later setting overrides an earlier one, as in Slurm); nothing if absent.
conf_value() {
    local file=$1 key=$2 line pair name result="" pairs
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line%%#*}
        # read -a splits on blanks without pathname expansion (values like node[1-4] are not globs).
        read -r -a pairs <<<"$line" || true
        for pair in "${pairs[@]}"; do
            [[ "$pair" == *=* ]] || continue
            name=${pair%%=*}
            [[ "${name,,}" == "${key,,}" ]] || continue
            result=${pair#*=}
            result=${result//\"/}
        done
    done <"$file"
    printf '%s' "$result"
}

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

check_settings() {
    [[ "$SLURM_WAIT_TIMEOUT_SECONDS" =~ ^[0-9]+$ ]] && ((SLURM_WAIT_TIMEOUT_SECONDS > 0)) ||
        die "SLURM_WAIT_TIMEOUT_SECONDS must be a positive whole number of seconds, not \"$SLURM_WAIT_TIMEOUT_SECONDS\""
    [[ -n "$(to_milliseconds "$SLURM_WAIT_MAX_BACKOFF_SECONDS")" ]] ||
        die "SLURM_WAIT_MAX_BACKOFF_SECONDS must be a positive number of seconds such as 0.5 or 2," \
            "not \"$SLURM_WAIT_MAX_BACKOFF_SECONDS\""
}

# Secrets and ConfigMaps are mounted as symlinks into ..data/: -f and -r follow them.
require_file() {
    local path=$1 what=$2
    [[ -e "$path" ]] || die "missing $what: $path (is the volume mounted?)"
    [[ -f "$path" ]] || die "$what is not a regular file: $path"
    [[ -r "$path" ]] || die "$what is not readable: $path"
}

# Every *.conf of the ConfigMap goes to SLURM_ETC: slurm.conf (required), cgroup.conf, gres.conf, and any other
# file slurm.conf includes. slurmdbd.conf holds the database password and only ever comes from the Secret.
collect_config_files() {
    local path
    require_file "$SLURM_CONFIG_SOURCE/slurm.conf" "slurm.conf"
    CONFIG_FILES=()
    for path in "$SLURM_CONFIG_SOURCE"/*.conf; do
        [[ "$(basename "$path")" == slurmdbd.conf ]] &&
            die "slurmdbd.conf must come from the Secret ($SLURMDBD_CONF_SOURCE), not from $SLURM_CONFIG_SOURCE"
        require_file "$path" "$(basename "$path")"
        CONFIG_FILES+=("$path")
    done
}

# slurmctld and slurmdbd start directly as SlurmUser (setpriv execs them, so they stay PID 1) instead of switching
# themselves: root never reads slurmdbd.conf (0600, SlurmUser's), and no daemon ever holds root. Sets EXEC_ARGV.
exec_as_slurm_user() {
    local group
    if [[ "$SLURM_USER" == root || "$SLURM_USER" == 0 ]]; then
        EXEC_ARGV=("$@")
        return
    fi
    # In a dry run on a machine without that user, assume the usual same-named group.
    group=$(id -gn "$SLURM_USER" 2>/dev/null) || group=$SLURM_USER
    EXEC_ARGV=(setpriv "--reuid=$SLURM_USER" "--regid=$group" --init-groups -- "$@")
}

print_plan() {
    local path target
    ((NEEDS_MUNGE == 0)) || plan "munge-key $MUNGE_KEY_SOURCE -> $MUNGE_ETC/munge.key"
    for path in "${CONFIG_FILES[@]}"; do
        plan "config $path -> $SLURM_ETC/$(basename "$path")"
    done
    [[ "$ROLE" != slurmdbd ]] || plan "config $SLURMDBD_CONF_SOURCE -> $SLURM_ETC/slurmdbd.conf"
    [[ -z "$SLURM_USER" ]] || plan "slurm-user $SLURM_USER"
    users_plan
    for target in "${WAIT_TARGETS[@]}"; do plan "wait $target"; done
    plan "exec $(quoted "${EXEC_ARGV[@]}")"
}

# Checks that need the image (users, binaries): still before anything is started.
validate_runtime() {
    local tool
    id -u munge >/dev/null 2>&1 || die "no munge user in the image"
    if [[ -n "$SLURM_USER" ]]; then
        id -u "$SLURM_USER" >/dev/null 2>&1 || die "SlurmUser \"$SLURM_USER\" does not exist in the image"
    fi
    for tool in munged munge unmunge setpriv timeout tini $DAEMON; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH"
    done
}

# Copies SRC to DST, owned by OWNER (with its primary group) with octal MODE, replacing DST at once. Needs no
# capability but CAP_CHOWN: the copy gets its final mode while still root's, and only then is given away
# (`install -o USER -m MODE` chmods after the chown, which takes CAP_FOWNER too). Callers run it under `||`.
place_file() {
    local src=$1 dst=$2 owner=$3 mode=$4 tmp="$2.tmp.$$"
    rm -f "$tmp" || return 1
    (umask "$(printf '%04o' $((0777 & ~8#$mode)))" && cat "$src" >"$tmp") || return 1
    if ! chown "$owner:$(id -gn "$owner")" "$tmp"; then
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$dst"
}

# Creates DIR (0755 by the umask) and gives it to USER; never chmods an existing one (that takes CAP_FOWNER).
owned_dir() {
    mkdir -p "$1"
    chown "$2:$(id -gn "$2")" "$1"
}

# munged refuses a key not owned by its user or readable by others, and the Secret mount is root-owned: copy it.
# The munge uid differs between images, so everything goes by name.
start_munge() {
    local deadline socket="$MUNGE_RUN_DIR/munge.socket.2"
    mkdir -p "$MUNGE_ETC"
    place_file "$MUNGE_KEY_SOURCE" "$MUNGE_ETC/munge.key" munge 0400 ||
        die "cannot install $MUNGE_ETC/munge.key owned by munge (the container needs CAP_CHOWN)"
    owned_dir "$MUNGE_RUN_DIR" munge
    log "starting munged"
    # munged forks into the background once its socket is ready; it runs as munge, never as root.
    if ! setpriv --reuid=munge --regid=munge --clear-groups -- \
        munged --key-file="$MUNGE_ETC/munge.key" --socket="$socket"; then
        tail -n 5 /var/log/munge/munged.log >&2 2>/dev/null || true
        die "munged did not start (setpriv needs CAP_SETUID and CAP_SETGID; munged a key of at least 32 bytes)"
    fi
    deadline=$((SECONDS + MUNGE_READY_SECONDS))
    until munge -n -S "$socket" | unmunge -S "$socket" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || die "munge -n | unmunge still fails ${MUNGE_READY_SECONDS} s after munged started"
        pause_ms 100
    done
    log "munge works (munge -n | unmunge)"
}

install_configs() {
    local path
    mkdir -p "$SLURM_ETC"
    for path in "${CONFIG_FILES[@]}"; do
        place_file "$path" "$SLURM_ETC/$(basename "$path")" root 0644 ||
            die "cannot install $SLURM_ETC/$(basename "$path")"
    done
    # Daemons and clients read $SLURM_CONF (slurmdbd.conf from the same directory); say so when not the default.
    [[ "$SLURM_ETC" == /etc/slurm ]] || export SLURM_CONF="$SLURM_ETC/slurm.conf"
}

# The daemon writes its pid file as USER into the directory CONF names in KEY (DEFAULT: Slurm's own): make that
# directory USER's if missing; Slurm's default, root's /run, is not writable by SlurmUser, so say what avoids it.
prepare_pid_file() {
    local conf=$1 key=$2 default=$3 user=$4 file dir
    file=$(conf_value "$conf" "$key")
    file=${file:-$default}
    dir=$(dirname "$file")
    if [[ ! -d "$dir" ]]; then
        owned_dir "$dir" "$user"
    elif [[ "$(stat -c %U "$dir")" != "$user" ]]; then
        log "note: $user cannot write $file;" \
            "set $key=/run/$(basename "$file" .pid)/$(basename "$file") in $(basename "$conf")"
    fi
}

# The sequence every role follows: validate everything (no side effects), then print the plan (dry run) or start
# munged, install the configs, prepare the role's directories, wait for SLURM_WAIT_FOR, and exec the daemon.
start_role() {
    check_settings
    parse_wait_for
    role_validate "$@"
    collect_users
    role_plan "$@"
    if is_dry_run; then
        print_plan
        [[ "$ENTRYPOINT_DRY_RUN" != wait ]] || wait_for_targets
        return 0
    fi
    # Until exec, this script is PID 1: make a stop during the waits end it rather than be ignored.
    trap 'log "stop signal received before the daemon started, exiting"; exit 143' TERM INT
    validate_runtime
    install_users
    ((NEEDS_MUNGE == 0)) || start_munge
    install_configs
    role_prepare
    log "configs installed in $SLURM_ETC, directories prepared"
    wait_for_targets
    # Daemons must not hold the mounts busy nor write relative paths into them.
    cd /
    trap - TERM INT
    log "exec $(quoted "${EXEC_ARGV[@]}")"
    exec "${EXEC_ARGV[@]}"
}
