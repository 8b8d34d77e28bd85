import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// The machine's report sequence number, strictly increasing across runs, crashes and
/// concurrent processes: taken under flock, written to disk before it is used, never reset.
public enum SequenceCounter {
    public static let fileName = "sequence"

    /// Why no number could be taken (a lock, an unwritable or damaged counter file), or why `use` failed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public static func next(stateDirectory: String) throws(Failure) -> Int {
        try next(stateDirectory: stateDirectory) { (_: Int) throws(Failure) in }.0
    }

    /// Takes the next number and runs `use` with it while still holding the lock, so whatever
    /// `use` writes (a spooled report) exists before any later number is handed out: the
    /// sender, which goes in sequence order, can never see report N+1 without report N.
    public static func next<Result, UseFailure: Error>(
        stateDirectory: String, use: (Int) throws(UseFailure) -> Result
    ) throws(Failure) -> (Int, Result) {
        do { try AtomicFile.makeDirectories(stateDirectory) } catch { throw Failure(message: error.message(in: .en)) }
        let lockPath = stateDirectory + "/" + fileName + ".lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard lock >= 0 else { throw Failure(message: "\(lockPath): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure(message: "\(lockPath): \(String(cString: strerror(errno)))") }
        }
        defer { flock(lock, LOCK_UN) }
        let path = stateDirectory + "/" + fileName
        var current = 0
        do {
            if let bytes = try HostRoot(stateDirectory).readFileIfPresent(fileName, limit: 64) {
                // A damaged counter must not restart at 1: the collector would reject every report as a replay.
                guard let value = Int(ByteText.display(bytes[...]).trimmingCharacters(in: " \n")), value >= 0 else {
                    throw Failure(message: "\(path): damaged sequence file; restore it, or re-enroll this machine")
                }
                current = value
            }
            try AtomicFile.write(Array("\(current + 1)\n".utf8), to: path, mode: 0o600)
        } catch let error as Failure {
            throw error
        } catch let error as HostReadError {
            throw Failure(message: error.message(in: .en))
        } catch {
            throw Failure(message: "\(error)")
        }
        do { return (current + 1, try use(current + 1)) } catch { throw Failure(message: "\(error)") }
    }
}
