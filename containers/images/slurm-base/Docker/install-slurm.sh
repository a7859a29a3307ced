#!/usr/bin/env bash
# Installs Slurm 24.11 and MUNGE from Debian trixie into the image; run once by the Dockerfile.
# Every Slurm role (slurmctld, slurmd, slurmdbd, login) comes from this one image; entrypoint.sh picks the role.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# Daemons and clients of every role (slurmrestd and the auth/jwt plugin for the REST API, sshd for the login
# role, curl to call the API from the login pod), and tini as PID 1 of the compute and login pods (it forwards
# signals and reaps orphaned processes such as slurmd's finished slurmstepd). The two last packages keep the image small (~136 MB instead of ~268 MB):
# - systemd-standalone-sysusers satisfies the plugins' "systemd | systemd-sysusers" dependency without full systemd;
# - mariadb-client-core gives the dbd pod a `mariadb` client to diagnose its database, without mariadb-client's perl.
readonly PACKAGES=(
    slurmctld
    slurmd
    slurmdbd
    slurm-client
    slurmrestd
    slurm-wlm-jwt-plugin
    openssh-server
    curl
    munge
    tini
    systemd-standalone-sysusers
    mariadb-client-core
)

install_packages() {
    apt-get update
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

# The key must come from the Kubernetes Secret, never from the image: Debian's munge package generates one at
# install time, and a key baked into a public image would let anyone forge credentials. The directory becomes
# root-owned 0755 (munged accepts it: not writable by others) so that the entrypoint, as root without
# CAP_DAC_OVERRIDE, can write the key into it.
prepare_munge_dir() {
    rm -f /etc/munge/munge.key
    chown root:root /etc/munge
    chmod 0755 /etc/munge
}

# Debian's plugstack.conf includes /etc/slurm/plugstack.conf.d/*; configless mode rejects that glob, and this
# image ships no SPANK plugins.
drop_plugstack_glob() {
    rm -f /etc/slurm/plugstack.conf
    rm -rf /etc/slurm/plugstack.conf.d
}

# Host keys must come from the Secret, never from the image: openssh-server generates them at install time, and a
# key baked into a public image would let anyone impersonate every lab's login pod.
drop_ssh_host_keys() {
    rm -f /etc/ssh/ssh_host_*
}

# slurmrestd refuses to run as root or as SlurmUser: it gets a system user of its own, with no home and no shell.
add_restapi_user() {
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group slurmrestd
}

# The daemons' users are created by the packages (sysusers/adduser) and above; their uids differ between images, so
# the entrypoint looks them up by name. Fail the build if one is missing rather than the pod at run time.
check_users() {
    id munge >/dev/null
    id slurm >/dev/null
    id sshd >/dev/null
    id slurmrestd >/dev/null
}

clean_up() {
    apt-get clean
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old \
        /var/log/apt /var/log/dpkg.log /var/log/alternatives.log
    # The base image's dpkg path-excludes normally keep these out; a base without them must not bloat the image.
    find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    find /usr/share/doc -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian/*
}

main() {
    install_packages
    prepare_munge_dir
    drop_plugstack_glob
    drop_ssh_host_keys
    add_restapi_user
    check_users
    clean_up
}

main "$@"
