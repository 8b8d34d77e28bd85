import TenkenBase

/// What content dpkg installed at a package's file: the md5sum its PACKAGE.md5sums records.
struct DpkgChecksums {
    private let info: Directory?

    init(_ root: HostRoot) { info = try? root.directoryIfPresent(DpkgFileOwnership.infoPath) }

    /// The md5sum dpkg recorded for the owner's file, as 32 hex digits; nil when the package has
    /// no md5sums file, it cannot be read, or it does not list the file: then the file is read by
    /// content, so a failure here costs time, never sight.
    func recordedMD5(_ owner: ProgramCandidate.Owner) -> [UInt8]? {
        guard let info,
            let bytes = try? info.readFile(FileName(owner.package + ".md5sums"), limit: 64 << 20)
        else { return nil }
        // "d41d8cd98f00b204e9800998ecf8427e  usr/bin/foo": the path without its leading "/".
        let path = owner.listedAs.drop { $0 == 0x2F }
        for line in bytes.split(separator: 0x0A) where line.count > 34 {
            if line.dropFirst(34).elementsEqual(path) { return Array(line.prefix(32)) }
        }
        return nil
    }
}
