import FoundationEssentials
import TenkenBase
import TenkenScan

/// Where this machine reports to, written by `tenken enroll` into the state directory
/// (collector.json, and the collector's CA as collector-ca.pem) and read by the agent.
public struct CollectorLink: Sendable, Codable, Equatable {
    public static let fileName = "collector.json"
    public static let caFileName = "collector-ca.pem"

    public let url: String
    public let keyId: String
    /// Whether the collector's CA was pinned at enrollment (else the system's roots are used).
    public let pinnedCA: Bool

    public init(url: String, keyId: String, pinnedCA: Bool) {
        self.url = url
        self.keyId = keyId
        self.pinnedCA = pinnedCA
    }

    public static func caFile(stateDirectory: String) -> String { stateDirectory + "/" + caFileName }

    /// Why the link could not be loaded: not enrolled yet, damaged or unreadable; the message says what to do.
    public struct Missing: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public static func load(stateDirectory: String) throws(Missing) -> CollectorLink {
        let path = stateDirectory + "/" + fileName
        let bytes: [UInt8]?
        // Through the checked state directory: where reports go must not be planted by another user.
        do { bytes = try StateDirectory(stateDirectory, create: false).read(fileName, limit: 1 << 16) } catch {
            if error.isNotFound { throw Missing(message: "\(path): not enrolled; run `tenken enroll`") }
            throw Missing(message: error.message(in: .en))
        }
        guard let bytes else {
            throw Missing(
                message: "\(path): not enrolled; run `tenken enroll https://COLLECTOR:8443 --token T --ca ca.pem`")
        }
        guard let link = try? JSONDecoder().decode(CollectorLink.self, from: Data(bytes)) else {
            throw Missing(message: "\(path): damaged; enroll again")
        }
        return link
    }

    /// Saves the link and, when given, a copy of the CA the agent will trust from now on.
    public func save(stateDirectory: String, caPEM: [UInt8]?) throws(HostReadError) {
        let state = try StateDirectory(stateDirectory)
        if let caPEM { try state.write(Self.caFileName, caPEM, mode: 0o644) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try state.write(Self.fileName, Array(try! encoder.encode(self)) + [0x0A], mode: 0o600)
    }

    /// The client, trusting the pinned CA as read from the checked state directory.
    public func client(stateDirectory: String) throws(CollectorClient.Failure) -> CollectorClient {
        guard pinnedCA else { return try CollectorClient(baseURL: url, caFile: nil) }
        let path = Self.caFile(stateDirectory: stateDirectory)
        let pem: [UInt8]?
        do { pem = try StateDirectory(stateDirectory, create: false).read(Self.caFileName, limit: 1 << 20) } catch {
            throw CollectorClient.Failure(ja: error.message(in: .ja), en: error.message(in: .en))
        }
        guard let pem else {
            throw CollectorClient.Failure(
                ja: "\(path): 固定した CA がありません。tenken enroll をやり直してください",
                en: "\(path): the pinned CA is missing; enroll again")
        }
        return try CollectorClient(baseURL: url, caFile: path, caPEM: pem)
    }
}
