#!/usr/bin/env bash
# Entrypoint of the ai-hyperscaler Slurm image: one image, four roles.
#
#   entrypoint.sh <role> [daemon args...]   role: controller (slurmctld) | compute (slurmd) | dbd (slurmdbd) | login
#   entrypoint.sh probe <role>              Kubernetes readiness check: exit 0 when the role is ready
#
# For a role it: checks the role and the mounted files (before starting anything), derives what to wait for from
# the config files themselves, installs the MUNGE key and starts munged, copies the configs into place, prepares
# the daemon's directories, waits for its dependency, then execs the daemon in the foreground (-D) as PID 1, so that
# SIGTERM reaches it: slurmctld and slurmdbd directly, already as SlurmUser (through setpriv, which execs them);
# slurmd (root) under tini, which forwards signals and reaps the slurmstepd processes slurmd orphans (as PID 1
# itself, slurmd leaves one zombie per job step). The login role runs no daemon: PID 1 is tini idling until
# SIGTERM/SIGINT, then exit 0.
# Extra args after the role go to the daemon verbatim (e.g. compute: -Z --conf "CPUs=1 RealMemory=1024 Feature=compute").
#
# Environment (defaults are where the Kubernetes pods mount things; tests override them):
#   MUNGE_KEY_SOURCE            /etc/munge-secret/munge.key     the MUNGE key (Secret), all roles
#   SLURM_CONFIG_SOURCE         /etc/slurm-config               slurm.conf [cgroup.conf gres.conf ...] (ConfigMap)
#   SLURMDBD_CONF_SOURCE        /etc/slurm-secret/slurmdbd.conf (Secret), dbd only
#   SLURM_ETC                   /etc/slurm                      where Slurm reads its configs
#   MUNGE_ETC                   /etc/munge                      where munged reads its key
#   MUNGE_RUN_DIR               /run/munge                      munged's socket directory
#   SLURM_WAIT_TIMEOUT_SECONDS  300                             bound of each wait for a dependency
#   SLURM_WAIT_MAX_BACKOFF_SECONDS 5                            longest pause between two attempts (1, 2, 4, 5, 5...)
#   PROBE_TIMEOUT_SECONDS       5                               bound of each readiness probe command
#   ENTRYPOINT_DRY_RUN          0: run; 1: validate, print the plan (config copies, waits, daemon command) to stdout
#                               and exit without side effects; wait: the same, but really perform the waits
set -euo pipefail
# Directories made here are 0755 and config copies get their mode explicitly, whatever umask the runtime set.
umask 0022

readonly ROLES=(controller compute dbd login)

readonly MUNGE_KEY_SOURCE="${MUNGE_KEY_SOURCE:-/etc/munge-secret/munge.key}"
readonly SLURM_CONFIG_SOURCE="${SLURM_CONFIG_SOURCE:-/etc/slurm-config}"
readonly SLURMDBD_CONF_SOURCE="${SLURMDBD_CONF_SOURCE:-/etc/slurm-secret/slurmdbd.conf}"
readonly SLURM_ETC="${SLURM_ETC:-/etc/slurm}"
readonly MUNGE_ETC="${MUNGE_ETC:-/etc/munge}"
readonly MUNGE_RUN_DIR="${MUNGE_RUN_DIR:-/run/munge}"
readonly SLURM_WAIT_TIMEOUT_SECONDS="${SLURM_WAIT_TIMEOUT_SECONDS:-300}"
readonly PROBE_TIMEOUT_SECONDS="${PROBE_TIMEOUT_SECONDS:-5}"
readonly ENTRYPOINT_DRY_RUN="${ENTRYPOINT_DRY_RUN:-0}"

# The longest pause between two connection attempts while waiting for a dependency.
readonly MAX_BACKOFF_SECONDS="${SLURM_WAIT_MAX_BACKOFF_SECONDS:-5}"
# The longest one connection attempt may take (name lookup included); a stalled lookup is retried rather than
# waited out.
readonly CONNECT_TIMEOUT_SECONDS=3
# munged forks once its socket is ready; allow this long before `munge -n | unmunge` must work.
readonly MUNGE_READY_SECONDS=10
# PID 1 in front of slurmd: forwards signals to it and reaps every orphan; -s also reaps them if the pod shares its
# process namespace (tini is not PID 1 then). Not in front of slurmctld/slurmdbd: they run as SlurmUser, and
# forwarding a signal to another user's process would take CAP_KILL.
readonly INIT=(tini -s --)
# What the login pod runs: no shell, SIGTERM (143) and SIGINT (130) end it with exit status 0.
readonly IDLE=(tini -s -e 143 -e 130 -- sleep infinity)

ROLE=""           # the role being started or probed; the log prefix
WAIT_WHAT=""      # what the role waits for, e.g. "slurmdbd" (empty: nothing)
WAIT_HOST=""
WAIT_PORT=""
WAIT_SOURCE=""    # where the target came from, for log lines
SLURM_USER=""     # the daemon's SlurmUser (controller, dbd)
CONFIG_FILES=()   # config files to copy from SLURM_CONFIG_SOURCE
DAEMON=""         # the daemon's binary (none for login)
DAEMON_ARGV=()    # the daemon's command line (login: IDLE)
EXEC_ARGV=()      # what PID 1 becomes

# --- logging ------------------------------------------------------------------------------------------------------

log() { printf 'entrypoint[%s]: %s\n' "${ROLE:-?}" "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

usage() {
    cat >&2 <<EOF
usage: entrypoint.sh <role> [daemon args...]
       entrypoint.sh probe <role>
roles: ${ROLES[*]}
EOF
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

# --- config parsing -----------------------------------------------------------------------------------------------

# Prints the value of KEY in a slurm.conf-style FILE (keys case-insensitive, `#` starts a comment, several
# Key=Value pairs may share a line); nothing if absent. WHICH=first takes the first occurrence (SlurmctldHost: the
# primary controller comes first); the default `last` matches Slurm, where a later setting overrides an earlier one.
conf_value() {
    local file=$1 key=$2 which=${3:-last}
    local line pair name result="" pairs
    while IFS= read -r line || [[ -n "$line" ]]; do
        line=${line%%#*}
        # read -a splits on blanks without pathname expansion (values like node[1-4] are not globs).
        read -r -a pairs <<<"$line" || true
        for pair in "${pairs[@]}"; do
            [[ "$pair" == *=* ]] || continue
            name=${pair%%=*}
            if [[ "${name,,}" == "${key,,}" ]]; then
                result=${pair#*=}
                result=${result//\"/}
                if [[ "$which" == first ]]; then
                    printf '%s' "$result"
                    return
                fi
            fi
        done
    done <"$file"
    printf '%s' "$result"
}

# `SlurmctldHost=name(addr)` → addr (the address to connect to), `SlurmctldHost=name` → name.
controller_address() {
    local value=$1
    if [[ "$value" =~ ^[^\(]+\(([^\),]+) ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
    else
        printf '%s' "$value"
    fi
}

# A port setting may be a range (`SlurmctldPort=6817-6820`): the first port always listens.
first_port() { printf '%s' "${1%%-*}"; }

is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }

# --- validation (no side effects) ---------------------------------------------------------------------------------

is_role() {
    local role
    for role in "${ROLES[@]}"; do
        [[ "$1" == "$role" ]] && return 0
    done
    return 1
}

check_role() {
    local role=${1-}
    [[ -n "$role" ]] ||
        die "no role given (usage: entrypoint.sh <role> [daemon args...] | entrypoint.sh probe <role>); allowed roles: ${ROLES[*]}"
    is_role "$role" || die "unknown role \"$role\"; allowed roles: ${ROLES[*]}"
}

# Secrets and ConfigMaps are mounted as symlinks into ..data/: -f and -r follow them.
require_file() {
    local path=$1 what=$2
    [[ -e "$path" ]] || die "missing $what: $path (is the volume mounted?)"
    [[ -f "$path" ]] || die "$what is not a regular file: $path"
    [[ -r "$path" ]] || die "$what is not readable: $path"
}

is_positive_integer() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 > 0)); }

check_timeout_settings() {
    if ! is_positive_integer "$SLURM_WAIT_TIMEOUT_SECONDS"; then
        die "SLURM_WAIT_TIMEOUT_SECONDS must be a positive number of seconds, not \"$SLURM_WAIT_TIMEOUT_SECONDS\""
    fi
    if ! is_positive_integer "$MAX_BACKOFF_SECONDS"; then
        die "SLURM_WAIT_MAX_BACKOFF_SECONDS must be a positive number of seconds, not \"$MAX_BACKOFF_SECONDS\""
    fi
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

validate_mounts() {
    require_file "$MUNGE_KEY_SOURCE" "MUNGE key"
    case "$ROLE" in
    controller | compute | login) collect_config_files ;;
    dbd) require_file "$SLURMDBD_CONF_SOURCE" "slurmdbd.conf" ;;
    esac
}

# --- what to wait for and what to run, derived from the config files ----------------------------------------------

# slurmctld exits on a first start while slurmdbd is unreachable: wait for it when accounting goes through slurmdbd.
derive_controller() {
    local conf="$SLURM_CONFIG_SOURCE/slurm.conf" type
    SLURM_USER=$(conf_value "$conf" SlurmUser)
    SLURM_USER=${SLURM_USER:-root}
    type=$(conf_value "$conf" AccountingStorageType)
    if [[ "${type,,}" == accounting_storage/slurmdbd ]]; then
        WAIT_WHAT="slurmdbd"
        WAIT_HOST=$(conf_value "$conf" AccountingStorageHost)
        [[ -n "$WAIT_HOST" ]] || die "$conf: AccountingStorageType=accounting_storage/slurmdbd needs AccountingStorageHost"
        WAIT_PORT=$(conf_value "$conf" AccountingStoragePort)
        WAIT_PORT=${WAIT_PORT:-6819}
        WAIT_SOURCE="AccountingStorageHost/AccountingStoragePort in slurm.conf"
    fi
    DAEMON=slurmctld
    run_as_slurm_user slurmctld -D
}

# slurmd and the client commands need slurmctld; its address is the `(addr)` part of the primary SlurmctldHost.
derive_controller_client() {
    local conf="$SLURM_CONFIG_SOURCE/slurm.conf" host
    host=$(conf_value "$conf" SlurmctldHost first)
    # Pre-21.08 spellings, still accepted by Slurm.
    [[ -n "$host" ]] || host=$(conf_value "$conf" ControlAddr first)
    [[ -n "$host" ]] || host=$(conf_value "$conf" ControlMachine first)
    [[ -n "$host" ]] || die "$conf: no SlurmctldHost"
    WAIT_WHAT="slurmctld"
    WAIT_HOST=$(controller_address "$host")
    WAIT_PORT=$(conf_value "$conf" SlurmctldPort)
    WAIT_PORT=$(first_port "${WAIT_PORT:-6817}")
    WAIT_SOURCE="SlurmctldHost/SlurmctldPort in slurm.conf"
}

derive_dbd() {
    local conf="$SLURMDBD_CONF_SOURCE"
    SLURM_USER=$(conf_value "$conf" SlurmUser)
    SLURM_USER=${SLURM_USER:-root}
    WAIT_WHAT="the database"
    WAIT_HOST=$(conf_value "$conf" StorageHost)
    WAIT_HOST=${WAIT_HOST:-localhost}
    WAIT_PORT=$(conf_value "$conf" StoragePort)
    WAIT_PORT=${WAIT_PORT:-3306}
    WAIT_SOURCE="StorageHost/StoragePort in slurmdbd.conf"
    DAEMON=slurmdbd
    run_as_slurm_user slurmdbd -D
}

# slurmctld and slurmdbd start directly as SlurmUser (setpriv execs them, so they stay PID 1) instead of switching
# themselves: root never reads slurmdbd.conf (0600, SlurmUser's), so neither needs CAP_DAC_OVERRIDE or
# CAP_DAC_READ_SEARCH, and no daemon ever holds root. Sets DAEMON_ARGV to "$@" run as SlurmUser.
run_as_slurm_user() {
    local group
    if [[ "$SLURM_USER" == root || "$SLURM_USER" == 0 ]]; then
        DAEMON_ARGV=("$@")
        return
    fi
    # In a dry run on a machine without that user, assume the usual same-named group.
    group=$(id -gn "$SLURM_USER" 2>/dev/null) || group=$SLURM_USER
    DAEMON_ARGV=(setpriv "--reuid=$SLURM_USER" "--regid=$group" --init-groups -- "$@")
}

derive_plan() {
    case "$ROLE" in
    controller) derive_controller ;;
    compute)
        derive_controller_client
        DAEMON=slurmd
        DAEMON_ARGV=(slurmd -D)
        ;;
    dbd) derive_dbd ;;
    login)
        derive_controller_client
        DAEMON_ARGV=("${IDLE[@]}")
        ;;
    esac
    if [[ -n "$WAIT_PORT" ]] && ! is_port "$WAIT_PORT"; then
        die "invalid port \"$WAIT_PORT\" for $WAIT_WHAT (from $WAIT_SOURCE)"
    fi
}

print_plan() {
    local path
    plan "munge-key $MUNGE_KEY_SOURCE -> $MUNGE_ETC/munge.key"
    for path in "${CONFIG_FILES[@]}"; do
        plan "config $path -> $SLURM_ETC/$(basename "$path")"
    done
    [[ "$ROLE" != dbd ]] || plan "config $SLURMDBD_CONF_SOURCE -> $SLURM_ETC/slurmdbd.conf"
    [[ -z "$SLURM_USER" ]] || plan "slurm-user $SLURM_USER"
    [[ -z "$WAIT_HOST" ]] || plan "wait $WAIT_HOST:$WAIT_PORT"
    plan "exec $(quoted "${EXEC_ARGV[@]}")"
}

# --- side effects -------------------------------------------------------------------------------------------------

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

# munged refuses a key not owned by its user or readable by others, and the Secret mount is root-owned: copy it.
# The munge uid differs between images, so everything goes by name.
start_munge() {
    local deadline
    # The image makes MUNGE_ETC root-owned 0755 (munged accepts that), so root writes the key there without
    # CAP_DAC_OVERRIDE; the result is what `install -o munge -g munge -m 0400` gives.
    mkdir -p "$MUNGE_ETC"
    place_file "$MUNGE_KEY_SOURCE" "$MUNGE_ETC/munge.key" munge 0400 ||
        die "cannot install $MUNGE_ETC/munge.key owned by munge (the container needs CAP_CHOWN)"
    owned_dir "$MUNGE_RUN_DIR" munge
    log "starting munged"
    # munged forks into the background once its socket is ready; it runs as munge, never as root.
    if ! setpriv --reuid=munge --regid=munge --clear-groups -- \
        munged --key-file="$MUNGE_ETC/munge.key" --socket="$MUNGE_RUN_DIR/munge.socket.2"; then
        tail -n 5 /var/log/munge/munged.log >&2 2>/dev/null || true
        die "munged did not start (setpriv needs CAP_SETUID and CAP_SETGID; munged a key of at least 32 bytes)"
    fi
    deadline=$((SECONDS + MUNGE_READY_SECONDS))
    until munge -n -S "$MUNGE_RUN_DIR/munge.socket.2" | unmunge -S "$MUNGE_RUN_DIR/munge.socket.2" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            tail -n 5 /var/log/munge/munged.log >&2 2>/dev/null || true
            die "munge -n | unmunge still fails ${MUNGE_READY_SECONDS} s after munged started"
        fi
        sleep 0.5
    done
    log "munge works (munge -n | unmunge)"
}

# Copies SRC to DST, owned by OWNER (a user name, with its primary group) with octal MODE, replacing DST at once.
# It needs no capability but CAP_CHOWN: the copy is created with its final mode while still root's and only then
# given away, whereas `install -o USER -m MODE` chmods after the chown, which takes CAP_FOWNER too.
# Each step is checked: callers run it under `||`, where set -e does not apply.
place_file() {
    local src=$1 dst=$2 owner=$3 mode=$4 tmp
    tmp="$dst.tmp.$$"
    rm -f "$tmp" || return 1
    (umask "$(printf '%04o' $((0777 & ~8#$mode)))" && cat "$src" >"$tmp") || return 1
    if ! chown "$owner:$(id -gn "$owner")" "$tmp"; then
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$dst"
}

# Creates DIR (and missing parents, 0755 by the umask) and gives it to USER. It never chmods an existing directory (the
# persistent volume, or a restarted container's /run): that would take CAP_FOWNER.
owned_dir() {
    local dir=$1 user=$2
    mkdir -p "$dir"
    chown "$user:$(id -gn "$user")" "$dir"
}

install_configs() {
    local path
    mkdir -p "$SLURM_ETC"
    for path in "${CONFIG_FILES[@]}"; do
        place_file "$path" "$SLURM_ETC/$(basename "$path")" root 0644 || die "cannot install $SLURM_ETC/$(basename "$path")"
    done
    if [[ "$ROLE" == dbd ]]; then
        # slurmdbd exits unless its config (it holds the database password) is 0600 and owned by SlurmUser.
        place_file "$SLURMDBD_CONF_SOURCE" "$SLURM_ETC/slurmdbd.conf" "$SLURM_USER" 0600 ||
            die "cannot install $SLURM_ETC/slurmdbd.conf owned by $SLURM_USER (the container needs CAP_CHOWN)"
    fi
    # Daemons and clients read $SLURM_CONF (slurmdbd.conf from the same directory); say so when not the default.
    if [[ "$SLURM_ETC" != /etc/slurm ]]; then
        export SLURM_CONF="$SLURM_ETC/slurm.conf"
    fi
    log "configs installed in $SLURM_ETC"
}

# The daemon writes its pid file as USER, into the directory CONF names in KEY (DEFAULT: Slurm's default,
# /run/<daemon>.pid): make that directory, USER's, if missing. Slurm's default lands in root's /run, where the daemon
# cannot write (a harmless "Unable to open pidfile" error); say which setting avoids it.
prepare_pid_file() {
    local conf=$1 key=$2 default=$3 user=$4 file dir
    file=$(conf_value "$conf" "$key")
    file=${file:-$default}
    dir=$(dirname "$file")
    if [[ ! -d "$dir" ]]; then
        owned_dir "$dir" "$user"
    elif [[ "$(stat -c %U "$dir")" != "$user" ]]; then
        log "note: $user cannot write $file; set $key=/run/$(basename "$file" .pid)/$(basename "$file") in $(basename "$conf")"
    fi
}

prepare_directories() {
    local conf="$SLURM_ETC/slurm.conf" state
    case "$ROLE" in
    controller)
        # StateSaveLocation is a persistent volume that Kubernetes mounts root-owned: hand it over on the first
        # start. Later starts find it SlurmUser's and leave it alone: slurmctld keeps 0700 directories in it that
        # root could not even list without CAP_DAC_READ_SEARCH.
        state=$(conf_value "$conf" StateSaveLocation)
        state=${state:-/var/spool/slurmctld}
        mkdir -p "$state"
        if [[ "$(stat -c %U "$state")" != "$SLURM_USER" ]]; then
            chown -R "$SLURM_USER:$(id -gn "$SLURM_USER")" "$state" ||
                die "cannot hand StateSaveLocation $state to $SLURM_USER (the container needs CAP_CHOWN)"
        fi
        owned_dir /run/slurmctld "$SLURM_USER"
        prepare_pid_file "$conf" SlurmctldPidFile /run/slurmctld.pid "$SLURM_USER"
        ;;
    compute)
        state=$(conf_value "$conf" SlurmdSpoolDir)
        mkdir -p "${state:-/var/spool/slurmd}" /run/slurmd
        prepare_pid_file "$conf" SlurmdPidFile /run/slurmd.pid root
        ;;
    dbd)
        owned_dir /run/slurmdbd "$SLURM_USER"
        # From the mounted Secret: the installed copy is SlurmUser's 0600, unreadable to a root without
        # CAP_DAC_OVERRIDE.
        prepare_pid_file "$SLURMDBD_CONF_SOURCE" PidFile /run/slurmdbd.pid "$SLURM_USER"
        ;;
    esac
}

# --- waiting ------------------------------------------------------------------------------------------------------

# One TCP connection attempt, bounded by SECONDS; DNS lookups can stall too, so the bound covers them.
tcp_open() {
    local host=$1 port=$2 seconds=$3
    # In the background + wait, so that a SIGTERM trap runs at once instead of after the attempt.
    # shellcheck disable=SC2016  # $0 and $1 are the inner bash's arguments
    timeout "$seconds" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null &
    wait $!
}

# Waits until WAIT_HOST:WAIT_PORT accepts a TCP connection: exponential backoff (1, 2, 4, 5, 5... s), one log line
# per attempt, at most SLURM_WAIT_TIMEOUT_SECONDS in all, then a clear error and exit 1.
wait_for_dependency() {
    local target="$WAIT_HOST:$WAIT_PORT" start=$SECONDS attempt=0 delay=1 elapsed remaining connect pause
    log "waiting for $WAIT_WHAT at $target ($WAIT_SOURCE), up to ${SLURM_WAIT_TIMEOUT_SECONDS} s"
    while :; do
        attempt=$((attempt + 1))
        remaining=$((SLURM_WAIT_TIMEOUT_SECONDS - (SECONDS - start)))
        connect=$((remaining < CONNECT_TIMEOUT_SECONDS ? remaining : CONNECT_TIMEOUT_SECONDS))
        connect=$((connect < 1 ? 1 : connect))
        if tcp_open "$WAIT_HOST" "$WAIT_PORT" "$connect"; then
            log "$WAIT_WHAT at $target accepts connections (attempt $attempt, $((SECONDS - start)) s elapsed)"
            return 0
        fi
        elapsed=$((SECONDS - start))
        remaining=$((SLURM_WAIT_TIMEOUT_SECONDS - elapsed))
        if ((remaining <= 0)); then
            die "timed out after ${elapsed} s waiting for $WAIT_WHAT at $target ($WAIT_SOURCE; $attempt attempts); raise SLURM_WAIT_TIMEOUT_SECONDS to wait longer"
        fi
        pause=$((delay < remaining ? delay : remaining))
        log "waiting for $WAIT_WHAT at $target: attempt $attempt failed, ${elapsed} s elapsed, next in ${pause} s"
        sleep "$pause" &
        wait $!
        delay=$((delay * 2 > MAX_BACKOFF_SECONDS ? MAX_BACKOFF_SECONDS : delay * 2))
    done
}

# --- running ------------------------------------------------------------------------------------------------------

run_role() {
    # Until exec, this script is PID 1: make a stop during the waits end it rather than be ignored.
    trap 'log "stop signal received before the daemon started, exiting"; exit 143' TERM INT

    validate_runtime
    start_munge
    install_configs
    prepare_directories
    [[ -z "$WAIT_HOST" ]] || wait_for_dependency

    # Daemons must not hold the mounts busy nor write relative paths into them.
    cd /
    trap - TERM INT
    if [[ "$ROLE" == login ]]; then
        log "ready; idling until stopped"
    fi
    log "exec $(quoted "${EXEC_ARGV[@]}")"
    exec "${EXEC_ARGV[@]}"
}

# --- probes -------------------------------------------------------------------------------------------------------

# An open port is not readiness (slurmctld listens while it still waits for slurmdbd): ask it with `scontrol ping`.
# Through a copy of slurm.conf whose SlurmctldHost address is 127.0.0.1, so that the probe never depends on the
# controller's Service, whose address may only resolve once this very probe has made the pod ready.
probe_controller() {
    local conf="$SLURM_ETC/slurm.conf" host local_conf output status=0
    [[ -r "$conf" ]] || die "no $conf yet"
    host=$(conf_value "$conf" SlurmctldHost first)
    [[ -n "$host" ]] || die "$conf: no SlurmctldHost"
    local_conf=$(mktemp /tmp/probe-slurm.conf.XXXXXX)
    {
        grep -v -i -E '^[[:space:]]*(SlurmctldHost|ControlMachine|ControlAddr|BackupController|BackupAddr)[[:space:]]*=' "$conf" || true
        printf 'SlurmctldHost=%s(127.0.0.1)\n' "${host%%(*}"
    } >"$local_conf"
    output=$(SLURM_CONF="$local_conf" timeout "$PROBE_TIMEOUT_SECONDS" scontrol ping 2>&1) || status=$?
    rm -f "$local_conf"
    [[ $status -eq 0 && "$output" == *" is UP"* ]] || die "slurmctld does not answer scontrol ping as UP: ${output:-no answer}"
}

probe() {
    local role=${1-} port conf
    ROLE="probe/${role:-?}"
    check_role "$role"
    case "$role" in
    controller) probe_controller ;;
    compute)
        timeout "$PROBE_TIMEOUT_SECONDS" scontrol show slurmd >/dev/null 2>&1 ||
            die "the local slurmd does not answer scontrol show slurmd"
        ;;
    dbd)
        # The mounted Secret is readable; the installed copy (SlurmUser's, 0600) is not without CAP_DAC_OVERRIDE.
        port=""
        for conf in "$SLURMDBD_CONF_SOURCE" "$SLURM_ETC/slurmdbd.conf"; do
            if [[ -r "$conf" ]]; then
                port=$(conf_value "$conf" DbdPort)
                break
            fi
        done
        port=${port:-6819}
        tcp_open 127.0.0.1 "$port" "$PROBE_TIMEOUT_SECONDS" || die "slurmdbd does not accept connections on 127.0.0.1:$port"
        ;;
    login)
        timeout "$PROBE_TIMEOUT_SECONDS" sinfo >/dev/null 2>&1 || die "sinfo does not answer within ${PROBE_TIMEOUT_SECONDS} s"
        ;;
    esac
}

# --- main ---------------------------------------------------------------------------------------------------------

main() {
    case "${1-}" in
    probe)
        shift
        probe "$@"
        return
        ;;
    -h | --help | help)
        usage
        return
        ;;
    esac

    ROLE=${1-}
    check_role "$ROLE"
    shift
    check_timeout_settings
    validate_mounts
    derive_plan
    case "$ROLE" in
    login)
        (($# == 0)) || die "the login role runs no daemon and takes no arguments, got: $(quoted "$@")"
        EXEC_ARGV=("${DAEMON_ARGV[@]}")
        ;;
    compute) EXEC_ARGV=("${INIT[@]}" "${DAEMON_ARGV[@]}" "$@") ;;
    *) EXEC_ARGV=("${DAEMON_ARGV[@]}" "$@") ;;
    esac

    if is_dry_run; then
        print_plan
        [[ "$ENTRYPOINT_DRY_RUN" != wait || -z "$WAIT_HOST" ]] || wait_for_dependency
        return
    fi
    run_role
}

main "$@"
