/// The default policy and catalog as compiled into tenken, by their path under Policies/.
public enum EmbeddedPolicies {
    public static let files: [String: [UInt8]] = [
        "default.yaml": PackageResources.default_yaml,
        "catalog/p2p.yaml": PackageResources.p2p_yaml,
        "catalog/cloud-sync.yaml": PackageResources.cloud_sync_yaml,
        "catalog/remote-access.yaml": PackageResources.remote_access_yaml,
        "catalog/antivirus.yaml": PackageResources.antivirus_yaml,
        "catalog/on-access.yaml": PackageResources.on_access_yaml,
        "contracts.json": PackageResources.contracts_json,
    ]

    /// Debian's distro-info-data (0.58+deb12u7, ISC licence): releases and their support dates.
    public static let distroInfo: [String: [UInt8]] = [
        "debian.csv": PackageResources.debian_csv,
        "ubuntu.csv": PackageResources.ubuntu_csv,
    ]
}
