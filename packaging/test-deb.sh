#!/usr/bin/env bash
# Installed use, as an administrator meets it: builds the .debs, checks them with lintian (tags
# not overridden in packaging/lintian-overrides fail), installs them with `apt install ./…deb`
# (apt resolves the dependencies), runs the installed programs, reads their manual pages, and
# removes the packages again. Changes the system: CI runs it, `scripts/test.sh` does not.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_packages dpkg-dev binutils lintian man-db

out="$(mktemp -d)"
chmod 0755 "$out"  # apt's sandbox user reads the .debs from here
cleanup() {
    as_root apt-get remove -y -qq --purge tenken tenken-collector >/dev/null 2>&1 || true
    rm -rf "$out"
}
trap cleanup EXIT

bash packaging/build-deb.sh "$out"
tenken_deb="$(ls "$out"/tenken_*.deb)"
collector_deb="$(ls "$out"/tenken-collector_*.deb)"

# lintian: errors and warnings fail the build; what stays is overridden with its reason.
lintian --fail-on error,warning --display-info --suppress-tags spelling-error-in-binary \
    "$tenken_deb" "$collector_deb" | tee "$out/lintian.txt"
echo "lintian: $(grep -c . "$out/lintian.txt" || true) tags shown (info included), none failing"

# The collector links the base module only: none of the host-scanning libraries.
collector_depends="$(dpkg-deb --field "$collector_deb" Depends)"
for library in libsystemd0 libyaml-0-2; do
    if grep -q "$library" <<<"$collector_depends"; then
        echo "tenken-collector depends on $library: it links scanning code ($collector_depends)" >&2
        exit 1
    fi
done
echo "tenken-collector depends on: $collector_depends"

as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tenken_deb" "$collector_deb" >/dev/null
[ "$(command -v tenken)" = /usr/bin/tenken ] || { echo "tenken is not /usr/bin/tenken once installed" >&2; exit 1; }

# The installed check runs with the policy built in: exit 0, 1 or 2 with a verdict.
status=0
LANG=C.UTF-8 /usr/bin/tenken check --lang en > "$out/check.txt" || status=$?
if [ "$status" -gt 2 ] || ! grep -q '^Verdict: ' "$out/check.txt"; then
    cat "$out/check.txt"
    echo "the installed tenken check exited $status without a verdict" >&2
    exit 1
fi
echo "installed tenken check: exit $status, $(grep '^Verdict: ' "$out/check.txt")"
/usr/bin/tenken agent --help > /dev/null  # tenken-agent is found beside tenken
/usr/bin/tenken-collector --help > /dev/null
for page in tenken tenken-check tenken-agent tenken-collector; do
    man -w "$page" > /dev/null || { echo "no manual page $page" >&2; exit 1; }
done
# The pages render in both languages (the Japanese text survives the manual generator).
LANG=C.UTF-8 MANWIDTH=200 man -P cat tenken-check 2>/dev/null | grep -q "Check this machine" \
    || { echo "the English page of tenken check does not render" >&2; exit 1; }
# (By file: man picks /usr/share/man/ja only where a Japanese locale is installed.)
LANG=C.UTF-8 MANWIDTH=200 man -P cat -l /usr/share/man/ja/man1/tenken-check.1.gz 2>/dev/null | grep -q "ポリシーで点検する" \
    || { echo "the Japanese page of tenken check does not render" >&2; exit 1; }

as_root apt-get remove -y -qq --purge tenken tenken-collector >/dev/null
if [ -e /usr/bin/tenken ] || [ -e /usr/bin/tenken-collector ]; then
    echo "removing the packages left their programs behind" >&2
    exit 1
fi
echo "packages built, installed, run and removed"
