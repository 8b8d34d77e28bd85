/// Where dpkg keeps what it knows of installed files: each package's file list
/// (PACKAGE.list) and md5sums, and the diversions.
enum DpkgFileOwnership {
    static let infoPath = "/var/lib/dpkg/info"
    static let diversionsPath = "/var/lib/dpkg/diversions"
}
