# Sourced by tests/fakes/docker: kind node containers, and a simulation of the node containers that have a state
# folder, in which the commands of nvkind's GPU setup have the effects the real ones have on a kind node.
#
# A container exists when a line of $FAKE_CLI_STATE/kind-nodes/<cluster> names it (name<TAB>role<TAB>image<TAB>
# ports, as tests/fakes/kind writes them); its labels io.x-k8s.kind.cluster and io.x-k8s.kind.role come from there.
# $FAKE_CLI_STATE/kind-node-sim/<name>/ makes it a simulated node. Files in that folder:
#   mounts                 one "source:destination" bind mount a line (`inspect` lists them)
#   running                present while the container runs (`exec` fails on a stopped one)
#   driver                 present when the host's driver reaches the node (nvidia-smi works, params readable)
#   generation             "legacy" (toolkit < 1.19: params reads ModifyDeviceFiles: 1) or "hook" (reads 0)
#   toolkit                present once nvidia-container-toolkit is installed
#   containerd-file        present once nvidia-ctk wrote the nvidia runtime into containerd's config
#   containerd-live        present once containerd runs with that config (after a restart)
#   params-masked          present once the masked copy of params is bind-mounted
#   dev                    entries of /dev, one a line
# Uses from the docker fake: $state, and exec_failure "<container> <command>" (a docker-exec-fail line it
# contains, if any).
# shellcheck shell=bash

sim_dir() { echo "$state/kind-node-sim/$1"; }
sim_node() { [ -n "$1" ] && [ -d "$(sim_dir "$1")" ]; }
has() { [ -e "$(sim_dir "$1")/$2" ]; }

# "cluster<TAB>role" of container $1 from the kind-nodes lists; fails when no list names it.
kind_labels() {
    local list name role rest
    for list in "$state"/kind-nodes/*; do
        [ -f "$list" ] || continue
        while IFS=$'\t' read -r name role rest; do
            [ "$name" = "$1" ] && { printf '%s\t%s\n' "${list##*/}" "$role"; return 0; }
        done < "$list"
    done
    return 1
}

not_found() {
    local why="exec: \"$1\": executable file not found in \$PATH: unknown"
    echo "OCI runtime exec failed: exec failed: unable to start container process: $why" >&2
    exit 126
}

params_text() { # node
    local zero=1
    if [ "$(cat "$(sim_dir "$1")/generation" 2>/dev/null)" = hook ] || has "$1" params-masked; then zero=0; fi
    printf 'ResmanDebugLevel: 4294967295\nRmLogonRC: 1\nModifyDeviceFiles: %s\n' "$zero"
    printf 'DeviceFileUID: 0\nDeviceFileGID: 0\nDeviceFileMode: 438\n'
}

# One line of a `bash -c` script in node $1; returns the status at which bash with `set -e` would stop.
script_line() {
    local node="$1" line="$2" d
    d="$(sim_dir "$node")"
    if [ -n "$(exec_failure "$node $line")" ]; then
        echo "E: fake failure of: $line" >&2
        return 100
    fi
    case "$line" in
        "set -euo pipefail" | "export DEBIAN_FRONTEND=noninteractive" | "apt-get update" | "apt-get install -y gpg") ;;
        "curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey | gpg --batch --yes --dearmor -o "*)
            touch "$d/apt-key" ;;
        "curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list | sed "*\
" > /etc/apt/sources.list.d/nvidia-container-toolkit.list")
            [ -e "$d/apt-key" ] || { echo "gpg: no key" >&2; return 2; }
            touch "$d/apt-list" ;;
        "apt-get install -y nvidia-container-toolkit")
            [ -e "$d/apt-list" ] || { echo "E: Unable to locate package nvidia-container-toolkit" >&2; return 100; }
            echo "Setting up nvidia-container-toolkit (1.17.8-1) ..."
            touch "$d/toolkit" ;;
        "umount -R /proc/driver/nvidia")
            # Toolkit 1.19's hook mounts the params file only, so the directory is no mount point.
            if [ "$(cat "$d/generation")" = hook ] || [ -e "$d/tmpfs-gone" ]; then
                echo "umount: /proc/driver/nvidia: not mounted." >&2
                return 32
            fi
            touch "$d/tmpfs-gone" ;;
        "if mountpoint -q /proc/driver/nvidia; then umount -R /proc/driver/nvidia; fi")
            if [ "$(cat "$d/generation")" = legacy ] && [ ! -e "$d/tmpfs-gone" ]; then touch "$d/tmpfs-gone"; fi ;;
        "cp /proc/driver/nvidia/params /root/gpu-params")
            if [ ! -e "$d/tmpfs-gone" ]; then
                echo "cp: cannot stat '/proc/driver/nvidia/params': No such file or directory" >&2
                return 1
            fi
            params_text "$node" > "$d/params-copy" ;;
        "sed -i 's/^ModifyDeviceFiles: 1\$/ModifyDeviceFiles: 0/' /root/gpu-params")
            sed -i 's/^ModifyDeviceFiles: 1$/ModifyDeviceFiles: 0/' "$d/params-copy" ;;
        "mount --bind /root/gpu-params /proc/driver/nvidia/params")
            grep -qx 'ModifyDeviceFiles: 0' "$d/params-copy" && touch "$d/params-masked" ;;
        "while umount /dev/nvidia"*"; do :; done") ;;
        "rm -rf /dev/nvidia"*)
            local device="${line#rm -rf /dev/}"
            grep -vx "$device" "$d/dev" > "$d/dev.new"; mv "$d/dev.new" "$d/dev" ;;
        *)
            echo "bash: line 1: ${line%% *}: command not found (fake docker: unknown script line: $line)" >&2
            return 127 ;;
    esac
}

# `docker exec <node> <argv...>` in a simulated node; exits with the command's status.
sim_exec() {
    local node="$1"; shift
    local d failure
    d="$(sim_dir "$node")"
    [ -e "$d/running" ] || { echo "Error response from daemon: container $node is not running" >&2; exit 1; }
    if [ "$1" = bash ] && [ "${2:-}" = -c ]; then
        local line status
        while IFS= read -r line; do
            script_line "$node" "$line"
            status=$?
            [ $status -eq 0 ] || exit $status
        done <<< "$3"
        exit 0
    fi
    failure="$(exec_failure "$node $*")"
    [ -z "$failure" ] || { echo "fake failure: $failure" >&2; exit 1; }
    case "$*" in
        "cat /proc/driver/nvidia/params")
            has "$node" driver || { echo "cat: /proc/driver/nvidia/params: No such file or directory" >&2; exit 1; }
            params_text "$node" ;;
        "nvidia-smi -L")
            has "$node" driver || not_found nvidia-smi
            echo "GPU 0: NVIDIA L4 (UUID: GPU-4cf8db2d-06c0-7d70-1a51-e59b25b2c16c)" ;;
        "nvidia-ctk --version")
            has "$node" toolkit || not_found nvidia-ctk
            printf 'NVIDIA Container Toolkit CLI version 1.17.8\ncommit: f202b80a9b9d0db00d9b1d73c0128c8962c55f4d\n' ;;
        "nvidia-ctk runtime configure --runtime=containerd --config-source=file")
            has "$node" toolkit || not_found nvidia-ctk
            echo 'time="2026-01-01T00:00:00Z" level=info msg="Wrote updated config to /etc/containerd/config.toml"' >&2
            touch "$d/containerd-file" ;;
        "systemctl restart containerd")
            has "$node" containerd-file && touch "$d/containerd-live" ;;
        "crictl info")
            local nvidia=""
            local runc='"runc": {"runtimeType": "io.containerd.runc.v2"}'
            local binary='"options": {"BinaryName": "/usr/bin/nvidia-container-runtime"}'
            has "$node" containerd-live && nvidia=", \"nvidia\": {\"runtimeType\": \"io.containerd.runc.v2\", $binary}"
            printf '{"status": {"conditions": []}, "config": {"containerd": {"runtimes": {%s%s}}}}\n' \
                "$runc" "$nvidia" ;;
        "ls /dev")
            tr '\n' ' ' < "$d/dev"; echo ;;
        *)
            not_found "$1" ;;
    esac
}

# `docker inspect <name...>` of kind node containers: name, running state, kind's labels, bind mounts.
kind_inspect() {
    local first=1 name labels cluster role
    echo "["
    for name in "$@"; do
        labels="$(kind_labels "$name")" || { echo "]"; echo "Error: No such object: $name" >&2; exit 1; }
        IFS=$'\t' read -r cluster role <<< "$labels"
        [ $first -eq 1 ] || echo ","
        first=0
        local d running=true mounts="" sep="" src dst
        d="$(sim_dir "$name")"
        if sim_node "$name"; then
            has "$name" running || running=false
            if [ -f "$d/mounts" ]; then
                while IFS=: read -r src dst; do
                    mounts="$mounts$sep{\"Type\": \"bind\", \"Source\": \"$src\", "
                    mounts="$mounts\"Destination\": \"$dst\", \"RW\": true}"
                    sep=", "
                done < "$d/mounts"
            fi
        fi
        labels="\"io.x-k8s.kind.cluster\": \"$cluster\", \"io.x-k8s.kind.role\": \"$role\""
        printf '{"Name": "/%s", "State": {"Running": %s}, "Config": {"Labels": {%s}}, "Mounts": [%s]}\n' \
            "$name" "$running" "$labels" "$mounts"
    done
    echo "]"
}
