#!/usr/bin/env bash
# The README's second set-up command, and what CI runs: installs what the tests use, starts the
# services they talk to, and runs `swift test`. Arguments go to `swift test`, e.g.
# `scripts/test.sh --filter collector`.
#
# Tests that need a tool or service fail when CI=true; elsewhere they may skip, saying what is
# missing. This script installs all of them, so a run through it skips nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh

use_swift
ensure_packages "${build_packages[@]}" "${test_packages[@]}"
# An independent JOSE library verifies tenken's signed reports.
ensure_python_module joserfc

swift test "$@"
