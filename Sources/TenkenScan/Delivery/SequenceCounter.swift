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
        stateDirectory: String, waitingAtMost seconds: Double = 30, use: (Int) throws(UseFailure) -> Result
    ) throws(Failure) -> (Int, Result) {
        let state: StateDirectory
        let lock: Int32
        do {
            state = try StateDirectory(stateDirectory)
            lock = try state.lock(fileName + ".lock", waitingAtMost: seconds)
        } catch {
            throw Failure(message: error.message(in: .en))
        }
        defer { close(lock) }
        var current = 0
        do {
            current = try last(in: state)
            try state.write(fileName, Array("\(current + 1)\n".utf8), mode: 0o600)
        } catch let error as Failure {
            throw error
        } catch let error as HostReadError {
            throw Failure(message: error.message(in: .en))
        } catch {
            throw Failure(message: "\(error)")
        }
        do { return (current + 1, try use(current + 1)) } catch { throw Failure(message: "\(error)") }
    }

    /// Holds the lock while `work` runs: no number is taken meanwhile (`tenken rotate-key`).
    public static func holding<Result>(
        stateDirectory: String, waitingAtMost seconds: Double = 30, _ work: () async throws -> Result
    ) async throws -> Result {
        let lock: Int32
        do { lock = try StateDirectory(stateDirectory).lock(fileName + ".lock", waitingAtMost: seconds) } catch {
            throw Failure(message: error.message(in: .en))
        }
        defer { close(lock) }
        return try await work()
    }

    /// Makes the next number at least `last + 1`: a machine given a new key for its old place at
    /// the collector (a reinstalled system) goes on above the reports stored before. Never lowers it.
    public static func raise(stateDirectory: String, above last: Int) throws(Failure) {
        guard last > 0 else { return }
        do {
            let state = try StateDirectory(stateDirectory)
            let lock = try state.lock(fileName + ".lock")
            defer { close(lock) }
            if try Self.last(in: state) >= last { return }
            try state.write(fileName, Array("\(last)\n".utf8), mode: 0o600)
        } catch let error as Failure {
            throw error
        } catch let error as HostReadError {
            throw Failure(message: error.message(in: .en))
        } catch {
            throw Failure(message: "\(error)")
        }
    }

    /// The last number taken (0 before the first), read under the lock. A counter that exists in
    /// any form (a link, a directory, damaged text) is never restarted at 1: the collector would
    /// refuse every report as a replay, and a planted link must not send the numbering backwards.
    private static func last(in state: StateDirectory) throws -> Int {
        let path = state.path + "/" + fileName
        if let bytes = try state.read(fileName, limit: 64) {
            guard let value = Int(ByteText.display(bytes[...]).trimmingCharacters(in: " \n")), value >= 0 else {
                throw Failure(message: "\(path): damaged sequence file; restore it, or re-enroll this machine")
            }
            return value
        }
        if state.exists(fileName) {
            throw Failure(message: "\(path): exists but cannot be read as a sequence file; restore it")
        }
        return 0
    }
}
