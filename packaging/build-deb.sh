#!/usr/bin/env bash
# Builds two packages with the Swift runtime linked in:
#   tenken_<version>_<arch>.deb            tenken (check, verify, ledger), tenken-agent, tenken-agent.service
#   tenken-collector_<version>_<arch>.deb  tenken-collector, tenken-collector.service
# Usage: packaging/build-deb.sh [output-directory]
#
# Binaries are stripped, manual pages generated from the commands' own help (swift-argument-
# parser's generate-manual plugin), Depends computed by dpkg-shlibdeps from what the binaries
# link. Maintainer: DEBFULLNAME and DEBEMAIL (as Debian's own tools read them), else the author
# of the last commit. packaging/lintian-overrides/ says which lintian tags stay, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
use_swift
out="${1:-.build/deb}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

for product in tenken tenken-agent tenken-collector; do
    swift build -c release --static-swift-stdlib --product "$product"
done
version="$(.build/release/tenken --version)"
arch="$(dpkg --print-architecture)"
changelog_version="$(sed -nE '1s/^tenken \(([^)]+)\).*/\1/p' packaging/changelog)"
if [ "$changelog_version" != "$version" ]; then
    echo "packaging/changelog is at $changelog_version but tenken --version says $version: add an entry" >&2
    exit 1
fi
if [ -n "${DEBEMAIL:-}" ]; then
    maintainer="${DEBFULLNAME:-tenken packagers} <$DEBEMAIL>"
else
    maintainer="$(git log -1 --format='%an <%ae>' 2>/dev/null || true)"
fi
if [ -z "$maintainer" ]; then
    echo "set DEBFULLNAME and DEBEMAIL to the packager's name and address" >&2
    exit 1
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# Manual pages, one per command and subcommand, from the help the programs print, by
# swift-argument-parser's manual generator (the tool behind its generate-manual plugin, run on
# the binaries built above; the plugin itself would build everything again without
# --static-swift-stdlib, and cannot tell tenken's pages from tenken-agent's, whose commands are
# both named tenken). English, and Japanese from the same programs under a Japanese locale.
# The generator drops non-ASCII characters, so the help carries them as {U+XXXX}
# (TENKEN_HELP_CODE_POINTS); manual-page.pl makes them roff's \[uXXXX] and names the pages as
# man pages usually are (tenken-check.1). argument-parser's own `help` pages are left out, and
# so is tenken-agent's top page (it is run as `tenken agent` and `tenken enroll`).
swift build -c release --static-swift-stdlib --product generate-manual
manual_date="$(git log -1 --format=%cs 2>/dev/null || date -u +%F)"
for language in en ja; do
    locale=C.UTF-8
    [ "$language" = ja ] && locale=ja_JP.UTF-8
    for product in tenken tenken-agent tenken-collector; do
        raw="$stage/man-raw/$language/$product"
        mkdir -p "$raw" "$stage/man/$language/$product"
        LC_ALL="$locale" LANG="$locale" TENKEN_HELP_CODE_POINTS=1 .build/release/generate-manual \
            ".build/release/$product" --multi-page --date "$manual_date" --output-directory "$raw" >/dev/null
        [ "$product" = tenken-agent ] && rm -f "$raw/tenken.1"
        for page in "$raw"/*.1; do
            name="$(basename "$page" .1)"
            [[ "$name" == *.help ]] && continue
            perl -p packaging/manual-page.pl "$page" > "$stage/man/$language/$product/${name//./-}.1"
        done
    done
done

# install_program SOURCE DESTINATION: a stripped copy (debug sections and .comment/.note gone,
# as dh_strip does), mode 0755.
install_program() {
    install -D -m 0755 "$1" "$2"
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$2"
}

# install_docs PACKAGE-DIR NAME PRODUCT...: README, copyright, changelog, manual pages (en, ja).
install_docs() {
    local dir="$1" name="$2" product page
    shift 2
    install -D -m 0644 README.md "$dir/usr/share/doc/$name/README.md"
    install -D -m 0644 packaging/copyright "$dir/usr/share/doc/$name/copyright"
    gzip -9n < packaging/changelog > "$dir/usr/share/doc/$name/changelog.gz"
    chmod 0644 "$dir/usr/share/doc/$name/changelog.gz"
    local language section
    for language in en ja; do
        section="$dir/usr/share/man/man1"
        [ "$language" = ja ] && section="$dir/usr/share/man/ja/man1"
        install -d -m 0755 "$section"
        for product in "$@"; do
            for page in "$stage/man/$language/$product"/*.1; do
                gzip -9n < "$page" > "$section/$(basename "$page").gz"
                chmod 0644 "$section/$(basename "$page").gz"
            done
        done
    done
}

# write_control PACKAGE-DIR NAME DESCRIPTION...: DEBIAN/control (Depends from dpkg-shlibdeps on
# the package's programs), md5sums, and the package itself in $out.
write_control() {
    local dir="$1" name="$2" depends size
    shift 2
    if [ -s "packaging/lintian-overrides/$name" ]; then
        install -D -m 0644 "packaging/lintian-overrides/$name" "$dir/usr/share/lintian/overrides/$name"
    fi
    install -d -m 0755 "$dir/DEBIAN"
    depends="$(cd "$stage/source" && dpkg-shlibdeps -O debian/"$name"/usr/bin/* \
        | sed -n 's/^shlibs:Depends=//p')"
    [ -n "$depends" ] || { echo "dpkg-shlibdeps found no dependencies for $name" >&2; exit 1; }
    size="$(du -sk --exclude=DEBIAN "$dir" | cut -f1)"
    {
        echo "Package: $name"
        echo "Version: $version"
        echo "Architecture: $arch"
        echo "Maintainer: $maintainer"
        echo "Installed-Size: $size"
        echo "Depends: $depends"
        echo "Section: admin"
        echo "Priority: optional"
        printf '%s\n' "$@"
    } > "$dir/DEBIAN/control"
    (cd "$dir" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
        > "$dir/DEBIAN/md5sums"
    chmod 0644 "$dir/DEBIAN/control" "$dir/DEBIAN/md5sums"
    dpkg-deb --root-owner-group -Zxz --build "$dir" "$out/${name}_${version}_${arch}.deb" >/dev/null
    echo "$out/${name}_${version}_${arch}.deb"
}

# Each package's tree is laid out as in a Debian source tree (debian/NAME), where
# dpkg-shlibdeps expects the binaries it reads.
mkdir -p "$stage/source/debian"
printf 'Source: tenken\n\nPackage: tenken\nArchitecture: any\n\nPackage: tenken-collector\nArchitecture: any\n' \
    > "$stage/source/debian/control"

agent="$stage/source/debian/tenken"
install_program .build/release/tenken "$agent/usr/bin/tenken"
install_program .build/release/tenken-agent "$agent/usr/bin/tenken-agent"
install -D -m 0644 packaging/tenken-agent.service "$agent/lib/systemd/system/tenken-agent.service"
install -d -m 0755 "$agent/usr/share/tenken/policies/catalog"
install -m 0644 Policies/default.yaml Policies/contracts.json "$agent/usr/share/tenken/policies/"
install -D -m 0644 Policies/README.md "$agent/usr/share/doc/tenken/policies.md"
install -m 0644 Policies/catalog/*.yaml "$agent/usr/share/tenken/policies/catalog/"
install_docs "$agent" tenken tenken tenken-agent
write_control "$agent" tenken \
    "Description: workstation compliance check for information-security contract clauses" \
    " tenken (点検) checks a Linux workstation against the information-security" \
    " clauses of Japanese municipal contracts: no file-exchange (P2P) or other" \
    " leak-prone software, patches, antivirus, ledger of PCs and media, and more." \
    " \`tenken check\` prints a bilingual verdict and exits 0 (compliant)," \
    " 1 (non-compliant) or 2 (could not check). tenken-agent.service reports" \
    " signed results to a tenken-collector (enroll first; not started by default)."

collector="$stage/source/debian/tenken-collector"
install_program .build/release/tenken-collector "$collector/usr/bin/tenken-collector"
install -D -m 0644 packaging/tenken-collector.service "$collector/lib/systemd/system/tenken-collector.service"
install_docs "$collector" tenken-collector tenken-collector
write_control "$collector" tenken-collector \
    "Description: collector of signed tenken compliance reports" \
    " Receives signed compliance reports from enrolled tenken agents over HTTPS" \
    " (TLS 1.2+), keeps them in SQLite, and shows the fleet: dashboard, JSON API," \
    " CSV for Excel, per-contract reports and Prometheus metrics."
