#if canImport(Glibc)
    import Glibc
#endif

/// Why a host fact could not be read. Carries the path (as seen inside the root) for the finding.
public struct HostReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong with the read; it decides the message and, for a finding, the kind of gap.
    public enum Reason: Sendable, Equatable {
        case notFound
        case permissionDenied
        case notARegularFile
        case notADirectory
        case tooLarge(limit: Int)
        /// Compressed data that does not decompress: damaged or cut short.
        case corrupt
        /// The kernel cannot confine paths to the root (no openat2), so nothing is read from it.
        case unconfined
        case system(errno: Int32)
        /// Present and readable, but refused for a reason of its own (say why, and the fix).
        case refused(Localized)
    }

    public let path: String
    public let reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    /// The error for a failed system call on `path`.
    public init(path: String, errno code: Int32) {
        switch code {
        case ENOENT: self.init(path: path, reason: .notFound)
        case EACCES, EPERM: self.init(path: path, reason: .permissionDenied)
        case ENOTDIR: self.init(path: path, reason: .notADirectory)
        case EISDIR: self.init(path: path, reason: .notARegularFile)
        case EXDEV: self.init(path: path, reason: .unconfined)
        default: self.init(path: path, reason: .system(errno: code))
        }
    }

    public var isNotFound: Bool { reason == .notFound }

    public var description: String { message(in: .en) }

    public func message(in language: Language) -> String {
        switch (reason, language) {
        case (.notFound, .en): return "\(path): not found"
        case (.notFound, .ja): return "\(path): 見つかりません"
        case (.permissionDenied, .en): return "\(path): permission denied"
        case (.permissionDenied, .ja): return "\(path): 読み取り権限がありません"
        case (.notARegularFile, .en): return "\(path): not a regular file"
        case (.notARegularFile, .ja): return "\(path): 通常のファイルではありません"
        case (.notADirectory, .en): return "\(path): not a directory"
        case (.notADirectory, .ja): return "\(path): ディレクトリではありません"
        case (.tooLarge(let limit), .en): return "\(path): larger than \(limit) bytes"
        case (.tooLarge(let limit), .ja): return "\(path): \(limit) バイトを超えています"
        case (.unconfined, .en): return "\(path): this kernel cannot keep reads inside --root (openat2 is unavailable)"
        case (.unconfined, .ja): return "\(path): このカーネルでは --root の外への読み取りを防げません (openat2 が使えません)"
        case (.corrupt, .en): return "\(path): compressed data is damaged or truncated"
        case (.corrupt, .ja): return "\(path): 圧縮データが壊れているか途中で切れています"
        case (.system(let code), .en): return "\(path): \(String(cString: strerror(code)))"
        case (.system(let code), .ja): return "\(path): 読み取りエラー (errno \(code))"
        case (.refused(let why), _): return "\(path): \(why[language])"
        }
    }
}
