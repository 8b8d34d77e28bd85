#!/usr/bin/env bash
# Builds two packages with the Swift runtime linked in:
#   tenken_<version>_<arch>.deb            tenken (check, verify, ledger), tenken-agent, tenken-agent.service
#   tenken-collector_<version>_<arch>.deb  tenken-collector, tenken-collector.service
# Usage: packaging/build-deb.sh [output-directory]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build/deb}"

for product in tenken tenken-agent tenken-collector; do
    swift build -c release --static-swift-stdlib --product "$product"
done
version="$(.build/release/tenken --version)"
arch="$(dpkg --print-architecture)"
mkdir -p "$out"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

agent="$stage/tenken"
install -D -m 0755 .build/release/tenken "$agent/usr/bin/tenken"
install -D -m 0755 .build/release/tenken-agent "$agent/usr/bin/tenken-agent"
install -D -m 0644 packaging/tenken-agent.service "$agent/lib/systemd/system/tenken-agent.service"
install -d -m 0755 "$agent/usr/share/tenken/policies/catalog"
install -m 0644 Policies/default.yaml Policies/contracts.yaml Policies/README.md "$agent/usr/share/tenken/policies/"
install -m 0644 Policies/catalog/*.yaml "$agent/usr/share/tenken/policies/catalog/"
install -D -m 0644 README.md "$agent/usr/share/doc/tenken/README.md"
install -d -m 0755 "$agent/DEBIAN"
cat > "$agent/DEBIAN/control" <<CONTROL
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
 leak-prone software, patches, antivirus, ledger of PCs and media, and more.
 \`tenken check\` prints a bilingual verdict and exits 0 (compliant),
 1 (non-compliant) or 2 (could not check). tenken-agent.service reports
 signed results to a tenken-collector (enroll first; not started by default).
CONTROL
dpkg-deb --root-owner-group --build "$agent" "$out/tenken_${version}_${arch}.deb" >/dev/null
echo "$out/tenken_${version}_${arch}.deb"

collector="$stage/tenken-collector"
install -D -m 0755 .build/release/tenken-collector "$collector/usr/bin/tenken-collector"
install -D -m 0644 packaging/tenken-collector.service "$collector/lib/systemd/system/tenken-collector.service"
install -D -m 0644 README.md "$collector/usr/share/doc/tenken-collector/README.md"
install -d -m 0755 "$collector/DEBIAN"
cat > "$collector/DEBIAN/control" <<CONTROL
Package: tenken-collector
Version: $version
Architecture: $arch
Maintainer: tenken developers <tenken@localhost>
Depends: libsqlite3-0, libzstd1, libyaml-0-2, libsystemd0, liblz4-1, liblzma5, zlib1g, libc6 (>= 2.34), libstdc++6, libgcc-s1
Section: admin
Priority: optional
Description: collector of signed tenken reports
 Receives signed compliance reports from enrolled tenken agents over HTTPS
 (TLS 1.2+), keeps them in SQLite, and shows the fleet: dashboard, JSON API,
 CSV for Excel, per-contract reports and Prometheus metrics.
CONTROL
dpkg-deb --root-owner-group --build "$collector" "$out/tenken-collector_${version}_${arch}.deb" >/dev/null
echo "$out/tenken-collector_${version}_${arch}.deb"
