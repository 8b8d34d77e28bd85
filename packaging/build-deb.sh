#!/usr/bin/env bash
# Builds tenken_<version>_<arch>.deb: a release binary with the Swift runtime linked in, so the
# package depends only on libyaml, the compression libraries apt itself uses, and the C/C++ runtime.
# Usage: packaging/build-deb.sh [output-directory]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/deb}"

swift build -c release --static-swift-stdlib --product tenken
binary=".build/release/tenken"
version="$("$binary" --version)"
arch="$(dpkg --print-architecture)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$binary" "$stage/usr/bin/tenken"
install -d -m 0755 "$stage/usr/share/tenken/policies/catalog"
install -m 0644 Policies/default.yaml Policies/README.md "$stage/usr/share/tenken/policies/"
install -m 0644 Policies/catalog/*.yaml "$stage/usr/share/tenken/policies/catalog/"
install -D -m 0644 README.md "$stage/usr/share/doc/tenken/README.md"
install -d -m 0755 "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: tenken
Version: $version
Architecture: $arch
Maintainer: tenken developers <tenken@localhost>
Depends: libyaml-0-2, libsystemd0, liblz4-1, libzstd1, liblzma5, zlib1g, libc6 (>= 2.34), libstdc++6, libgcc-s1
Section: admin
Priority: optional
Description: workstation compliance check for information-security contract clauses
 tenken (点検) checks a Linux workstation against the information-security
 clauses of Japanese municipal contracts: no file-exchange (P2P) or other
 leak-prone software, and more. `tenken check` prints a bilingual verdict
 and exits 0 (compliant), 1 (non-compliant) or 2 (could not check).
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group --build "$stage" "$out/tenken_${version}_${arch}.deb" >/dev/null
echo "$out/tenken_${version}_${arch}.deb"
