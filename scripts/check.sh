#!/usr/bin/env bash
# The README's first set-up command: builds `tenken check` alone (release, the Swift runtime
# linked in; none of the agent's or collector's server stack) and checks this machine with the
# policy built into tenken. Exits as tenken does: 0 compliant, 1 non-compliant, 2 could not check.
# Arguments go to `tenken check`, e.g. `scripts/check.sh --lang en` or `--json`.
#
# The check runs as root (directly, or through sudo) because only root sees every user's
# processes, sockets and home directories; TENKEN_AS_USER=1 runs it as you instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

use_swift
ensure_packages "${build_packages[@]}"
swift build -c release --static-swift-stdlib --product tenken

if [ "${TENKEN_AS_USER:-0}" = 1 ] || [ "$(id -u)" -eq 0 ]; then
    exec .build/release/tenken check "$@"
fi
if ! command -v sudo >/dev/null 2>&1; then
    echo "no sudo: checking as $(id -un); the report names what this user cannot see" >&2
    exec .build/release/tenken check "$@"
fi
# sudo keeps LANG and LC_* (its default env_keep), so the report is in the language you read.
exec sudo -- .build/release/tenken check "$@"
