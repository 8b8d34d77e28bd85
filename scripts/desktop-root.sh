#!/usr/bin/env bash
# Builds (once) a real Debian desktop-like root with debootstrap, for the no-false-positive test
# of content detection: browsers, office, mail, media players, development tools, a download
# manager, a podcast client, and the packages that can exchange files but are not made for it.
# Kept in a cache outside every tree a check of this machine walks, at most about 4 GB; the test
# (ContentFalsePositiveTests) runs only when TENKEN_DESKTOP_ROOT names it:
#
#   sudo scripts/desktop-root.sh            # builds /var/cache/tenken-tests/desktop-root
#   TENKEN_DESKTOP_ROOT=/var/cache/tenken-tests/desktop-root swift test --filter ContentFalsePositive
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

root="${TENKEN_DESKTOP_ROOT:-/var/cache/tenken-tests/desktop-root}"
ensure_packages debootstrap
if [ -e "$root/.complete" ]; then
    echo "$root is built (remove it to build it again)"
    exit 0
fi
as_root rm -rf "$root"
as_root mkdir -p "$root"
packages=(
    # browsers, mail, office
    firefox-esr chromium thunderbird libreoffice-writer libreoffice-calc libreoffice-impress
    # media
    vlc mpv gimp eog evince
    # desktop tools
    nautilus file-roller gnome-text-editor keepassxc filezilla remmina-common
    # development
    git gcc g++ make python3 python3-pip golang-go openjdk-17-jre-headless curl wget rsync openssh-client
    # security
    clamav
    # dual-use: can fetch torrents, or are lobbies and plugins that can, but are not made for it
    aria2 gpodder vlc-plugin-bittorrent nbdkit
)
# A minimal base first; then apt installs the desktop, resolving what debootstrap's --include
# cannot (alternatives such as dbus-session-bus). Services are not started inside the root.
archives=/var/cache/tenken-tests/archives
as_root mkdir -p "$archives"
as_root debootstrap --variant=minbase --components=main --cache-dir="$archives" bookworm "$root" \
    http://deb.debian.org/debian
printf '#!/bin/sh\nexit 101\n' | as_root tee "$root/usr/sbin/policy-rc.d" >/dev/null
as_root chmod 755 "$root/usr/sbin/policy-rc.d"
as_root chroot "$root" apt-get update -q
# Java's postinst needs /proc; the downloads are kept beside the root for the next build.
as_root mount -t proc proc "$root/proc"
as_root mount --bind "$archives" "$root/var/cache/apt/archives"
trap 'as_root umount "$root/var/cache/apt/archives" "$root/proc" 2>/dev/null || true' EXIT
as_root env DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends \
    "${packages[@]}"
as_root umount "$root/var/cache/apt/archives" "$root/proc"
trap - EXIT
as_root chroot "$root" apt-get clean
as_root rm -f "$root/usr/sbin/policy-rc.d"
as_root touch "$root/.complete"
du -sh "$root"
