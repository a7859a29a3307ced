#!/usr/bin/env bash
# npm run -s nodeimage: builds a kind node image with podman and no registry, the way kind's own is made (kind
# v0.33.0 images/base and pkg/build/nodeimage), and prints its reference on stdout (progress goes to stderr):
#   - a Debian bookworm root (systemd 252 still boots on cgroup v1) with containerd, runc, the CNI plugins,
#     iptables and conntrack from Debian's packages, and this folder's files/ (containerd config, kubelet units,
#     kind's manifests);
#   - kubelet, kubeadm and kubectl of testbed/toolchain (Kubernetes built from the Go module proxy);
#   - the images `kubeadm config images list` names (kube-apiserver, -controller-manager, -scheduler, -proxy,
#     etcd, coredns, pause), the CNI and the storage provisioner, each under the name its manifest uses, imported
#     into containerd at build time and pinned, as kind's node images hold them (/var/lib/containerd).
# Cached: the image is tagged with a hash of everything it is made of, and built only when that tag is missing.
# Each step names itself and, when it fails, shows its own error (whole log in $HYPERSCALER_CACHE/nodeimage/logs).
# Needs: npm run toolchain (the binaries), podman (with CONTAINERS_CONF on hosts that need one), debootstrap, gcc.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE="${HYPERSCALER_CACHE:-$HOME/.cache/ai-hyperscaler}"
BIN="$CACHE/bin"
WORK="$CACHE/nodeimage"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# shellcheck source=../toolchain/versions.env
source "$REPO/testbed/toolchain/versions.env"

# The node's packages (kind's base image has these parts); the tools image carries what kube-proxy, the CNI
# and the storage helper run: a shell, iptables, ip, conntrack.
NODE_PACKAGES=systemd,systemd-sysv,dbus,iproute2,procps,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,ethtool,socat,util-linux,mount,kmod,ca-certificates,libseccomp2
TOOLS_PACKAGES=iptables,iproute2,conntrack,procps
BINARIES=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd crictl
    coredns local-path-provisioner)
# Images only the manifests in files/kind/manifests name; never pulled, so their tag only says where they come from.
LOCAL=localhost/ai-hyperscaler

log() { printf 'nodeimage: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# step NAME COMMAND...: one build step, its output in logs/NAME.log; a failure names the step and shows its error.
step() {
    local name="$1"
    shift
    log "$name"
    if ! "$@" >"$WORK/logs/$name.log" 2>&1; then
        tail -n 20 "$WORK/logs/$name.log" >&2
        die "step '$name' failed (whole log: $WORK/logs/$name.log)"
    fi
}

hash_of() { sha256sum | cut -c1-12; }

# rootfs NAME PACKAGES: a bookworm minbase root with PACKAGES, imported as $LOCAL/kind-NAME-base:<hash>.
rootfs() {
    local name="$1" packages="$2" tag dir
    tag="$LOCAL/kind-$name-base:$(printf '%s\n' bookworm "$packages" "$(declare -f rootfs)" | hash_of)"
    if podman image exists "$tag"; then
        echo "$tag"
        return
    fi
    dir="$(mktemp -d "$WORK/rootfs-$name.XXXXXX")"
    step "debootstrap-$name" debootstrap --variant=minbase --include="$packages" bookworm "$dir" "$MIRROR"
    # What a container never reads: apt's lists and caches, manuals, translations.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/* "$dir"/usr/share/{doc,man,info,locale}/*
    step "import-$name" sh -c "tar --numeric-owner -C '$dir' -c . | podman import - '$tag'"
    rm -rf "$dir"
    echo "$tag"
}

# image TAG CONTAINERFILE: builds an image of the context from a Containerfile given as text; preload() takes it.
image() {
    local tag="$1" file="$2" name
    name="$(basename "${tag%%:*}")"
    printf '%s\n' "$file" >"$CONTEXT/Containerfile.$name"
    step "image-$name" podman build --quiet -t "$tag" -f "$CONTEXT/Containerfile.$name" "$CONTEXT"
    IMAGES+=("$tag")
}

# preload BASE: the images in containerd's store as a node sees it, in $CONTEXT/containerd.tar. One archive for all,
# so the layers they share are stored once; containerd runs in a container of the node's base for the import, with
# its store on the cache's disk (overlayfs cannot unpack onto the overlay of a container's own root).
preload() {
    step save-images podman save --format docker-archive -m -o "$CONTEXT/images.tar" "${IMAGES[@]}"
    mkdir -p "$CONTEXT/containerd"
    step preload podman run --rm --privileged --network none -v "$CONTEXT/containerd:/var/lib/containerd" \
        -v "$CONTEXT/images.tar:/images.tar:ro" -v "$HERE/files/etc/containerd:/etc/containerd:ro" "$1" sh -euc '
            containerd >/var/lib/containerd/import.log 2>&1 &
            containerd=$!
            for _ in $(seq 300); do ctr version >/dev/null 2>&1 && break; sleep 0.1; done
            ctr --namespace=k8s.io images import /images.tar
            # The label CRI reads so the kubelet never collects them (containerd 1.6 import has no --label).
            ctr --namespace=k8s.io images ls -q | while read -r image; do
                ctr --namespace=k8s.io images label "$image" io.cri-containerd.pinned=pinned
            done
            kill "$containerd"
            wait "$containerd" || true
            rm /var/lib/containerd/import.log'
    # A tar keeps the owners of the files inside the images (COPY would make them root's).
    step containerd-archive tar --numeric-owner -C "$CONTEXT/containerd" -cf "$CONTEXT/containerd.tar" .
    rm -rf "$CONTEXT/containerd" "$CONTEXT/images.tar"
}

main() {
    mkdir -p "$WORK/logs"
    local tool missing=()
    for tool in "${BINARIES[@]}"; do [[ -x "$BIN/$tool" ]] || missing+=("$tool"); done
    ((${#missing[@]} == 0)) || die "missing in $BIN: ${missing[*]}; run npm run toolchain first"
    for tool in podman debootstrap gcc; do command -v "$tool" >/dev/null || die "$tool is needed"; done
    podman info >/dev/null 2>&1 || die "podman does not work here: $(podman info 2>&1 | tail -n 1)"

    local key ref
    key="$( (
        cat "$REPO/testbed/toolchain/versions.env" "$0"
        find "$HERE" -type f | sort | xargs cat
        for tool in "${BINARIES[@]}"; do sha256sum <"$BIN/$tool"; done
    ) | hash_of)"
    ref="$LOCAL/kind-node:$KUBERNETES_VERSION-$key"
    if podman image exists "$ref"; then
        log "$ref is built already"
        echo "$ref"
        return
    fi
    local start=$SECONDS node_base tools_base
    node_base="$(rootfs node "$NODE_PACKAGES")"
    tools_base="$(rootfs tools "$TOOLS_PACKAGES")"

    CONTEXT="$(mktemp -d "$WORK/context.XXXXXX")"
    trap 'rm -rf "$CONTEXT"' EXIT
    mkdir -p "$CONTEXT/bin"
    IMAGES=()
    for tool in "${BINARIES[@]}"; do cp "$BIN/$tool" "$CONTEXT/bin/"; done
    step pause gcc -static -O2 -Wall -Wextra -Werror -o "$CONTEXT/bin/pause" "$HERE/pause.c"
    cp -a "$HERE/files" "$CONTEXT/files"

    # The names kubeadm will run, from kubeadm itself: registry.k8s.io/<name>:<tag> (coredns under coredns/).
    local names name
    step kubeadm-images "$BIN/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION"
    names="$(cat "$WORK/logs/kubeadm-images.log")"
    local path='ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    for name in $names; do
        case "$(basename "${name%%:*}")" in
            kube-apiserver | kube-controller-manager | kube-scheduler | etcd)
                tool="$(basename "${name%%:*}")"
                image "$name" "FROM scratch
COPY bin/$tool /usr/local/bin/$tool
$path
ENTRYPOINT [\"/usr/local/bin/$tool\"]"
                ;;
            kube-proxy)
                image "$name" "FROM $tools_base
COPY bin/kube-proxy /usr/local/bin/kube-proxy
ENTRYPOINT [\"/usr/local/bin/kube-proxy\"]"
                ;;
            coredns) image "$name" $'FROM scratch\nCOPY bin/coredns /coredns\nENTRYPOINT ["/coredns"]' ;;
            pause) image "$name" $'FROM scratch\nCOPY bin/pause /pause\nENTRYPOINT ["/pause"]' ;;
            *) die "kubeadm names an image this build does not know how to make: $name" ;;
        esac
    done
    image "$LOCAL/kindnet-standin:preloaded" "FROM $tools_base
COPY bin/kubectl /usr/local/bin/kubectl"
    image "$LOCAL/local-path-provisioner:preloaded" "FROM scratch
COPY bin/local-path-provisioner /usr/local/bin/local-path-provisioner
$path"
    image "$LOCAL/local-path-helper:preloaded" "FROM $tools_base"
    preload "$node_base"

    printf '%s\n' "FROM $node_base" \
        "COPY files/ /" \
        "COPY bin/kubelet bin/kubeadm bin/kubectl bin/crictl /usr/bin/" \
        "ADD containerd.tar /var/lib/containerd/" \
        "RUN echo $KUBERNETES_VERSION >/kind/version && systemctl enable containerd kubelet && systemctl mask getty.target console-getty.service" \
        "STOPSIGNAL SIGRTMIN+3" \
        'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' >"$CONTEXT/Containerfile"
    step node-image podman build --quiet -t "$ref" -f "$CONTEXT/Containerfile" "$CONTEXT"
    # Each node image holds ~1.7 GB: the ones this build supersedes go (a running cluster's stays, podman refuses),
    # and so do the layers its rebuilt parts left untagged.
    local old
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "$LOCAL/kind-node"); do
        [[ "$old" == "$ref" ]] || podman rmi "$old" >/dev/null 2>&1 || true
    done
    podman image prune -f >/dev/null 2>&1 || true
    log "built $ref in $((SECONDS - start)) s ($(podman image inspect --format '{{.Size}}' "$ref" | numfmt --to=iec))"
    echo "$ref"
}

main "$@"
exit
