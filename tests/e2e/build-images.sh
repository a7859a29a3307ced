#!/usr/bin/env bash
# Builds, with podman and without any container registry, the images the e2e tests run:
#   localhost/debian:trixie-slim                  debootstrap rootfs standing in for Docker Hub's debian:trixie-slim
#   localhost/ai-hyperscaler/slurm:24.11          containers/images/slurm-base/Docker, Dockerfile unchanged
#   localhost/ai-hyperscaler/mariadb-standin:test tests/e2e/images/mariadb (the upstream mariadb image cannot be pulled)
# and writes the containers.conf that podman needs on these machines (runc: crun fails on their cgroup layout;
# ulimits within the hard nofile limit of 20000).
#
# Usage:  eval "$(tests/e2e/build-images.sh)"
# Logs and timings go to stderr; stdout carries only `export CONTAINERS_CONF=<path>`. Idempotent: an existing base
# image is kept, and podman's layer cache makes a rebuild of unchanged images take seconds. Safe to run twice at once.
#
# Environment (all optional):
#   E2E_CACHE_DIR        where the rootfs (if debootstrapped), lock and containers.conf live;
#                        default /var/tmp/ai-hyperscaler-e2e
#   TRIXIE_ROOTFS        an existing trixie minbase rootfs to reuse; default /var/tmp/trixie
#   DEBIAN_MIRROR        mirror for debootstrap; default http://deb.debian.org/debian
#   E2E_CONTAINERS_CONF  path of the containers.conf to write; default $E2E_CACHE_DIR/containers.conf
#   E2E_REBUILD_BASE=1   re-import the base image even if it exists
#   E2E_BASE_IMAGE, E2E_SLURM_IMAGE, E2E_MARIADB_IMAGE  other image names (defaults above)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly CACHE_DIR="${E2E_CACHE_DIR:-/var/tmp/ai-hyperscaler-e2e}"
readonly TRIXIE_ROOTFS="${TRIXIE_ROOTFS:-/var/tmp/trixie}"
readonly DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly CONF_PATH="${E2E_CONTAINERS_CONF:-$CACHE_DIR/containers.conf}"

# Other names only to try a change without replacing the images other work on this machine uses.
readonly BASE_IMAGE="${E2E_BASE_IMAGE:-localhost/debian:trixie-slim}"
readonly SLURM_IMAGE="${E2E_SLURM_IMAGE:-localhost/ai-hyperscaler/slurm:24.11}"
readonly MARIADB_IMAGE="${E2E_MARIADB_IMAGE:-localhost/ai-hyperscaler/mariadb-standin:test}"
readonly SLURM_CONTEXT="$REPO_ROOT/containers/images/slurm-base/Docker"
readonly MARIADB_CONTEXT="$REPO_ROOT/tests/e2e/images/mariadb"

log() { printf 'build-images: %s\n' "$*" >&2; }
die() { printf 'build-images: error: %s\n' "$*" >&2; exit 1; }

# Runs "$@" and logs how long it took, so CI logs show where the build time goes.
timed() {
    local what=$1 start end
    shift
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    log "$(awk -v what="$what" -v a="$start" -v b="$end" 'BEGIN { printf "%s took %.1f s", what, b - a }')"
}

require_tools() {
    local tool missing=()
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    ((${#missing[@]} == 0)) ||
        die "missing tools: ${missing[*]} (apt-get install podman buildah runc debootstrap netavark aardvark-dns)"
}

# Where podman 4.3 keeps its network helpers; netavark may also sit in /usr/libexec/podman.
netavark_installed() { [[ -x /usr/lib/podman/netavark || -x /usr/libexec/podman/netavark ]]; }

# crun fails on this machine's cgroup layout, and the hard nofile limit is 20000: podman needs both settings.
# Containers find each other by name only with netavark + aardvark-dns: podman 4.3 picks the CNI backend (no name
# lookup here) on its own as soon as its storage holds an image, so the backend is named explicitly.
write_containers_conf() {
    mkdir -p "$(dirname "$CONF_PATH")"
    local tmp="$CONF_PATH.tmp.$$" network=""
    if netavark_installed; then
        network=$'\n[network]\nnetwork_backend = "netavark"\n'
    else
        log "warning: netavark is not installed: containers on a podman network will not resolve each other's" \
            "names (apt-get install netavark aardvark-dns)"
    fi
    cat >"$tmp" <<CONF
# Written by tests/e2e/build-images.sh: podman settings this machine needs.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
$network
CONF
    mv -f "$tmp" "$CONF_PATH"
    export CONTAINERS_CONF="$CONF_PATH"
    log "wrote $CONF_PATH (exported as CONTAINERS_CONF)"
}

# A rootfs counts as usable when debootstrap finished it: apt and the release file are there.
is_trixie_rootfs() {
    local dir=$1
    [[ -x "$dir/usr/bin/apt-get" && -f "$dir/etc/os-release" ]] &&
        grep -q '^VERSION_CODENAME=trixie$' "$dir/etc/os-release"
}

# Prints the rootfs to import: the shared /var/tmp/trixie when present, else our cached one, debootstrapped if needed.
find_or_make_rootfs() {
    if is_trixie_rootfs "$TRIXIE_ROOTFS"; then
        log "reusing rootfs $TRIXIE_ROOTFS"
        printf '%s\n' "$TRIXIE_ROOTFS"
        return
    fi
    local cached="$CACHE_DIR/trixie-rootfs"
    if ! is_trixie_rootfs "$cached"; then
        require_tools debootstrap
        # debootstrap into a scratch dir and rename it at the end, so an interrupted run never leaves a half rootfs
        # that the check above would take for a good one.
        local partial="$cached.partial"
        rm -rf "$partial"
        log "debootstrapping trixie minbase into $cached (about a minute)"
        timed "debootstrap" debootstrap --variant=minbase trixie "$partial" "$DEBIAN_MIRROR" >&2 ||
            die "debootstrap of trixie from $DEBIAN_MIRROR failed"
        rm -rf "$cached"
        mv "$partial" "$cached"
    else
        log "reusing rootfs $cached"
    fi
    printf '%s\n' "$cached"
}

# Imports the rootfs as localhost/debian:trixie-slim, slimmed like Docker Hub's -slim images: no docs, man pages,
# locales, apt caches, and the same dpkg path-excludes so packages installed later stay slim too.
make_base_image() {
    if [[ "${E2E_REBUILD_BASE:-0}" != 1 ]] && podman image exists "$BASE_IMAGE"; then
        log "base image $BASE_IMAGE exists, kept"
        return
    fi
    local rootfs staging
    rootfs=$(find_or_make_rootfs)
    staging=$(mktemp -d "$CACHE_DIR/base-staging.XXXXXX")
    STAGING_DIR=$staging # removed on exit, even when a step below fails
    # Copy rather than prune in place: the source rootfs may be shared with other work on this machine.
    tar --numeric-owner -C "$rootfs" \
        --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' --exclude='./usr/share/info/*' \
        --exclude='./usr/share/locale/*' --exclude='./usr/share/lintian/*' --exclude='./usr/share/linda/*' \
        --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/cache/apt/*.bin' \
        --exclude='./var/lib/apt/lists/*' --exclude='./var/log/*' \
        -c . | tar --numeric-owner -C "$staging" -x
    mkdir -p "$staging/etc/dpkg/dpkg.cfg.d" "$staging/var/lib/apt/lists/partial"
    cat >"$staging/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
# As in Docker Hub's debian:*-slim: keep documentation and translations out of the image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
DPKG
    tar --numeric-owner -C "$staging" -c . |
        podman import \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            - "$BASE_IMAGE" >/dev/null ||
        die "podman import of $rootfs as $BASE_IMAGE failed"
    rm -rf "$staging"
    log "imported $BASE_IMAGE ($(image_size "$BASE_IMAGE"))"
}

image_size() {
    podman image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1000000 }'
}

# `--from` replaces the Dockerfile's `FROM debian:trixie-slim` with the local image, so the Dockerfile stays unchanged;
# `--pull=never` makes sure nothing tries a registry. RUN steps use the host's network: with the netavark backend,
# containers on podman's default network cannot reach the host's resolver here, and apt needs the package mirror.
build_image() {
    local tag=$1 context=$2
    [[ -f "$context/Dockerfile" ]] || die "no Dockerfile in $context"
    podman build --pull=never --network=host --from "$BASE_IMAGE" --layers -t "$tag" -f "$context/Dockerfile" \
        "$context" >&2 ||
        die "podman build of $tag from $context failed"
    log "built $tag ($(image_size "$tag"))"
}

STAGING_DIR=""
cleanup() { [[ -z "$STAGING_DIR" ]] || rm -rf "$STAGING_DIR"; }

main() {
    trap cleanup EXIT
    require_tools podman runc tar awk flock
    mkdir -p "$CACHE_DIR"
    write_containers_conf
    # Two builds at once (e.g. a developer and a test run) would race on the base import; serialize them.
    exec 9>"$CACHE_DIR/build.lock"
    flock 9

    local start=$SECONDS
    timed "base image $BASE_IMAGE" make_base_image
    timed "image $SLURM_IMAGE" build_image "$SLURM_IMAGE" "$SLURM_CONTEXT"
    timed "image $MARIADB_IMAGE" build_image "$MARIADB_IMAGE" "$MARIADB_CONTEXT"
    log "all images ready in $((SECONDS - start)) s"
    printf 'export CONTAINERS_CONF=%q\n' "$CONF_PATH"
}

main "$@"
