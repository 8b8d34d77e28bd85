# Shared by scripts/check.sh, scripts/test.sh and .ci/run: the Swift toolchain on the PATH,
# Debian packages installed when missing, commands run as root with or without sudo.
# Sourced, not run.

# What `tenken check` builds against: libyaml (policy), libsystemd (journal, devices), the
# compression libraries apt stores its lists with, libsquashfs (AppImages), libsodium (Ed25519 key
# checks), and pkg-config.
build_packages=(libyaml-dev libsystemd-dev liblz4-dev libzstd-dev liblzma-dev zlib1g-dev libsquashfs-dev libsodium-dev pkg-config)

# What the tests add: SQLite (the collector's store), setpriv (util-linux, to run as nobody),
# the lz4/zstd/xz/gzip tools that make compressed apt lists, dpkg and apt as oracles,
# systemd-journal-remote (real journal files), curl (an independent HTTPS client), binutils
# (readelf and nm: what the collector links),
# systemd-analyze (the units), python3 with pip (joserfc verifies signed reports),
# binutils-mingw-w64 (windres and ld build Windows programs with version resources) and
# squashfs-tools (mksquashfs builds AppImages).
test_packages=(libsqlite3-dev binutils util-linux lz4 zstd xz-utils gzip dpkg apt systemd-journal-remote curl systemd
               python3 python3-pip ca-certificates binutils-mingw-w64-x86-64 squashfs-tools)

# Swift on a fresh machine of this kind lives in /opt/swift; elsewhere it must be on the PATH.
use_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    if ! command -v swift >/dev/null 2>&1; then
        echo "swift is not on the PATH: install Swift 6 (https://www.swift.org/install/linux/) first" >&2
        exit 2
    fi
}

# Runs a command as root: directly when we are root (a fresh server or container often has no
# sudo), through sudo otherwise. The arguments pass through as they are, never through a shell.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -- "$@"
    else
        echo "need root for: $* (run as root, or install sudo)" >&2
        return 2
    fi
}

# Installs the named Debian packages that are not installed yet; `apt-get update` first, since a
# fresh machine may have no package lists at all.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}" >&2
    # dpkg's progress is long and says nothing useful; it is shown only when something fails.
    local output
    output="$(mktemp)"
    if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$output" 2>&1; then
        cat "$output" >&2
        rm -f "$output"
        echo "could not install: ${missing[*]}" >&2
        return 2
    fi
    rm -f "$output"
}

# Installs a Python module from PyPI for the current user when python3 cannot import it.
ensure_python_module() {
    local module="$1" package="${2:-$1}"
    python3 -c "import $module" 2>/dev/null && return 0
    echo "installing from PyPI: $package" >&2
    # Debian's python3 refuses system-wide pip installs (PEP 668); a user install is what we want.
    python3 -m pip install --quiet --user "$package" 2>/dev/null \
        || python3 -m pip install --quiet --user --break-system-packages "$package" \
        || python3 -m pip install --quiet "$package"
}
