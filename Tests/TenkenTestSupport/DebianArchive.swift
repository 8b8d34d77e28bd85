import Foundation
import Testing

/// Real programs from Debian's archive for tests: each package is fetched once with
/// `apt-get download` into a cache and unpacked with `dpkg-deb -x` into a test's scratch tree.
/// The cache holds only .deb archives, which a check of this machine does not look inside (they
/// are not programs), so the README's check of a test machine is not changed by them.
public enum DebianArchive {
    /// `TENKEN_DEB_CACHE`, or `~/.cache/tenken-tests/debs` (`$XDG_CACHE_HOME` if set).
    public static let cache: String = {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["TENKEN_DEB_CACHE"], !path.isEmpty { return path }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory() + "/.cache"
        return base + "/tenken-tests/debs"
    }()

    private static let lock = NSLock()

    /// The cached .deb of `package` (the candidate apt would install), fetched when missing.
    public static func deb(_ package: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        if let found = try cached(package) { return found }
        // Into a directory of its own first, so a download cut short never looks cached.
        let incoming = cache + "/.incoming-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: incoming) }
        // apt downloads as _apt, which must be able to write there.
        chmod(incoming, 0o777)
        let result = try TenkenTestSupport.run(["/usr/bin/apt-get", "download", "-q", package], directory: incoming)
        guard result.status == 0 else {
            throw Failure("apt-get download \(package) failed (\(result.status)): \(result.error)")
        }
        for name in try FileManager.default.contentsOfDirectory(atPath: incoming) where name.hasSuffix(".deb") {
            try FileManager.default.moveItem(atPath: incoming + "/" + name, toPath: cache + "/" + name)
        }
        guard let found = try cached(package) else { throw Failure("apt-get download \(package) left no .deb") }
        return found
    }

    /// Unpacks `package` into `directory` (a scratch path) and returns that path.
    @discardableResult
    public static func unpack(_ package: String, into directory: String) throws -> String {
        let archive = try deb(package)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try TenkenTestSupport.run(["/usr/bin/dpkg-deb", "-x", archive, directory])
        guard result.status == 0 else { throw Failure("dpkg-deb -x \(archive) failed: \(result.error)") }
        return directory
    }

    private static func cached(_ package: String) throws -> String? {
        try FileManager.default.contentsOfDirectory(atPath: cache)
            .filter { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }.sorted().last.map { cache + "/" + $0 }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
