# Waiting for what a role needs before its daemon starts: the host:port pairs of SLURM_WAIT_FOR, which the pod
# spec names from the same topology table the manifests are built from. Sourced by entrypoint.sh after lib.sh.
# shellcheck shell=bash

# Seconds with up to three decimals → milliseconds; empty when not a positive number.
to_milliseconds() {
    [[ "$1" =~ ^([0-9]+)(\.([0-9]{1,3}))?$ ]] || return 0
    local whole=${BASH_REMATCH[1]} fraction=${BASH_REMATCH[3]}
    fraction=$fraction"000"
    local ms=$((10#$whole * 1000 + 10#${fraction:0:3}))
    ((ms == 0)) || printf '%d' "$ms"
}

# SLURM_WAIT_FOR: space-separated host:port pairs the pod spec names (its topology knows what each role needs).
parse_wait_for() {
    local target host port targets
    WAIT_TARGETS=()
    # read -a splits on blanks without pathname expansion.
    read -r -a targets <<<"$SLURM_WAIT_FOR" || true
    for target in "${targets[@]}"; do
        host=${target%:*}
        port=${target##*:}
        if [[ "$target" != *:* || -z "$host" || "$host" == *[!A-Za-z0-9.-]* ]] || ! is_port "$port"; then
            die "SLURM_WAIT_FOR has \"$target\"; allowed: space-separated host:port pairs" \
                "(host: letters, digits, dots, hyphens; port: 1-65535), e.g. \"slurmctld:6817\""
        fi
        WAIT_TARGETS+=("$target")
    done
}

# A sub-second pause without starting a process: `read -t` on a pipe nobody writes to.
pause_ms() {
    [[ -n "${PAUSE_FD-}" ]] || exec {PAUSE_FD}<> <(:)
    read -r -t "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))" -u "$PAUSE_FD" || true
}

# One TCP connection attempt, bounded by SECONDS (a name lookup can stall too). A forked subshell, not a new
# program: 64 nodes polling their controller cost almost nothing while it starts.
tcp_open() {
    local host=$1 port=$2 seconds=$3 pid ticks
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null &
    pid=$!
    for ((ticks = seconds * 50; ticks > 0; ticks--)); do
        kill -0 "$pid" 2>/dev/null || break
        pause_ms 20
    done
    if ((ticks == 0)); then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid"
}

# Milliseconds since the epoch, in NOW_MS (no subshell): SECONDS counts whole seconds from an unknown fraction.
now_ms() {
    local micros=${EPOCHREALTIME//[.,]/}
    NOW_MS=$((10#$micros / 1000))
}

# Waits until TARGET (host:port) accepts a TCP connection, pausing 0.1 s, doubling up to
# SLURM_WAIT_MAX_BACKOFF_SECONDS, within SLURM_WAIT_TIMEOUT_SECONDS; then a clear error and exit 1.
wait_for_target() {
    local target=$1 start attempt=0 delay_ms=100 max_ms logged=-1 elapsed connect_ms
    max_ms=$(to_milliseconds "$SLURM_WAIT_MAX_BACKOFF_SECONDS")
    log "waiting for $target (from SLURM_WAIT_FOR), up to ${SLURM_WAIT_TIMEOUT_SECONDS} s"
    now_ms
    start=$NOW_MS
    while :; do
        attempt=$((attempt + 1))
        now_ms
        connect_ms=$((SLURM_WAIT_TIMEOUT_SECONDS * 1000 - (NOW_MS - start)))
        connect_ms=$((connect_ms > CONNECT_TIMEOUT_SECONDS * 1000 ? CONNECT_TIMEOUT_SECONDS * 1000 : connect_ms))
        if tcp_open "${target%:*}" "${target##*:}" "$(((connect_ms + 999) / 1000))"; then
            now_ms
            log "$target accepts connections (attempt $attempt, $(((NOW_MS - start) / 1000)) s elapsed)"
            return 0
        fi
        now_ms
        elapsed=$(((NOW_MS - start) / 1000))
        ((NOW_MS - start < SLURM_WAIT_TIMEOUT_SECONDS * 1000)) ||
            die "timed out after ${elapsed} s waiting for $target (from SLURM_WAIT_FOR; $attempt attempts);" \
                "raise SLURM_WAIT_TIMEOUT_SECONDS to wait longer"
        if ((logged < 0 || elapsed - logged >= WAIT_LOG_EVERY_SECONDS)); then
            log "waiting for $target: attempt $attempt failed, ${elapsed} s elapsed"
            logged=$elapsed
        fi
        pause_ms "$delay_ms"
        delay_ms=$((delay_ms * 2 > max_ms ? max_ms : delay_ms * 2))
    done
}

wait_for_targets() {
    local target
    for target in "${WAIT_TARGETS[@]}"; do wait_for_target "$target"; done
}
