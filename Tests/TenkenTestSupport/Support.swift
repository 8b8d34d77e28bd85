import Foundation
import TenkenBase
import TenkenScan
import Testing

/// The committed fixture roots (Tests/Fixtures), and scratch copies of them for tests that damage a tree.
public enum Fixture {
    public static let directory = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "Fixtures").path
    /// The time the fixtures' ages are measured against: 2026-11-18T12:06:40Z.
    public static let now = 1_795_003_600
    /// The workstation root's /etc/machine-id: the identity its reports give.
    public static let workstationMachineID = "5f3c8e1a9b2d4c6e8f0a1b2c3d4e5f60"

    /// The fixture root `name`, with its planted programs in place (see `Planted`).
    public static func path(_ name: String) -> String { Planted.roots.path(name) }

    public static func root(_ name: String) throws -> HostRoot { try HostRoot(path(name)) }

    /// The finding of one default-policy rule, checked alone on the root at `path`.
    public static func finding(_ rule: String, at path: String) throws -> Finding {
        let policy = try PolicyLoader.loadDefault().selecting([rule]).get()
        let report = Check.run(root: try HostRoot(path), policy: policy, now: now)
        return try #require(report.finding(rule))
    }

    /// A writable copy of a fixture root (cp -a keeps its symlinks and modes).
    public static func copy(_ name: String) throws -> ScratchTree {
        let scratch = try ScratchTree()
        try run(["/bin/cp", "-a", path(name) + "/.", scratch.path])
        return scratch
    }
}

/// Files of a fixture whose names a check looks for (`qbittorrent`, `Winny.exe`) are committed as
/// `NAME.planted`: a check of the machine that holds this clone must not find tenken's own fixtures.
/// Fixture roots are used through a copy, made once per test process, with the suffix taken off,
/// and removed when the process ends.
enum Planted {
    static let suffix = ".planted"
    static let roots = PlantedRoots()
}

/// The copies of the fixture roots that hold planted files, made the first time each is asked for.
final class PlantedRoots: @unchecked Sendable {
    private let lock = NSLock()
    private var copies: [String: String] = [:]
    private var scratch: ScratchTree?

    func path(_ name: String) -> String {
        let committed = Fixture.directory + "/" + name
        lock.lock()
        defer { lock.unlock() }
        if let copy = copies[name] { return copy }
        let planted = Self.plantedFiles(in: committed)
        guard !planted.isEmpty else {
            copies[name] = committed
            return committed
        }
        do {
            if scratch == nil {
                scratch = try ScratchTree()
                atexit { Planted.roots.removeAll() }
            }
            let copy = scratch!.path + "/" + name
            try run(["/bin/mkdir", copy])
            try run(["/bin/cp", "-a", committed + "/.", copy])
            for file in planted {
                let from = copy + "/" + file
                guard rename(from, String(from.dropLast(Planted.suffix.count))) == 0 else {
                    fatalError("cannot plant \(file) in \(copy)")
                }
            }
            copies[name] = copy
            return copy
        } catch {
            fatalError("cannot copy fixture \(name): \(error)")
        }
    }

    func removeAll() {
        lock.lock()
        scratch = nil
        lock.unlock()
    }

    private static func plantedFiles(in root: String) -> [String] {
        let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(Planted.suffix) }
    }
}

/// A temporary directory removed when the test is done with it.
public final class ScratchTree {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appending(path: "tenken-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // World-readable so a test can scan it as an unprivileged user.
        chmod(path, 0o755)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func write(_ relative: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let url = URL(filePath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
        chmod(url.path, mode)
    }

    public func write(_ relative: String, _ text: String, mode: mode_t = 0o644) throws {
        try write(relative, Array(text.utf8), mode: mode)
    }

    public func read(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(filePath: path + "/" + relative)))
    }

    public func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path + "/" + relative) }
}

/// The programs this package builds, beside the test bundle.
public enum Programs {
    static let directory = URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent()
    public static let tenken = directory.appending(path: "tenken").path
    public static let collector = directory.appending(path: "tenken-collector").path
    /// The C compiler Swift ships, found on the PATH: what tests build stand-in programs with.
    public static let clang: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (paths + ["/usr/bin"]).map { $0 + "/clang" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()
}

/// A finished program's exit status and output.
public struct CommandResult {
    public let status: Int32
    public let output: String
    public let error: String
}

/// Runs a program with an argument list (no shell), in `directory` if given, and returns its
/// status and output.
@discardableResult
public func run(
    _ arguments: [String], environment: [String: String]? = nil, input: String? = nil, directory: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(filePath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(filePath: directory) }
    if let input {
        let pipe = Pipe()
        process.standardInput = pipe
        pipe.fileHandleForWriting.write(Data(input.utf8))
        try pipe.fileHandleForWriting.close()
    }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outData = output.fileHandleForReading.readDataToEndOfFile()
    let errData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, output: String(decoding: outData, as: UTF8.self),
        error: String(decoding: errData, as: UTF8.self))
}

extension CheckReport {
    public func finding(_ id: String) -> Finding? { findings.first { $0.ruleID == id } }
}

extension ScratchTree {
    /// Rewrites the ClamAV daily database header as built `hoursAgo` hours before now.
    public func setClamAVBuild(hoursAgo: Int) throws {
        let built = Int(Date().timeIntervalSince1970) - hoursAgo * 3600
        let header = "ClamAV-VDB:\(built):27836:2076548:90:0f3f6a5b5c8e1d0a2b3c4d5e6f708192:X:fixture:\(built)"
        try write(
            "var/lib/clamav/daily.cld", Array(header.utf8) + Array(repeating: 0x20, count: 512 - header.utf8.count))
    }
}

/// `run` on a thread of its own: an async test that waits for a program talking to a server
/// in this process must not hold one of the few threads that server's handlers run on.
public func runDetached(_ arguments: [String], environment: [String: String]? = nil, input: String? = nil) async throws
    -> CommandResult
{
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try run(arguments, environment: environment, input: input) })
        }
    }
}

/// Polls `condition` every few milliseconds until it holds or `seconds` pass.
public func waitUntil(seconds: Double = 60, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try condition()
}

/// Programs and Python modules some tests use (scripts/test.sh installs them all). Under CI
/// (`CI=true`) a test that needs one always runs, so a missing one fails it; elsewhere the test
/// is skipped, saying what to install.
public enum Needs {
    public static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

    public static func programs(_ paths: String...) -> ConditionTrait {
        // Both conditions are autoclosures: evaluated when the test is about to run.
        .enabled(
            if: underCI || missing(paths).isEmpty,
            "needs \(missing(paths).joined(separator: ", ")): run scripts/test.sh, which installs it")
    }

    public static func pythonModule(_ name: String) -> ConditionTrait {
        .enabled(if: underCI || importable(name), "needs python3 with \(name): run scripts/test.sh, which installs it")
    }

    private static func missing(_ paths: [String]) -> [String] {
        paths.filter { !FileManager.default.isExecutableFile(atPath: $0) }
    }

    private static func importable(_ module: String) -> Bool {
        (try? run(["/usr/bin/env", "python3", "-c", "import " + module]).status == 0) ?? false
    }

    /// Runs a command as nobody when the tests run as root (root reads anything); needs setpriv.
    public static let setpriv = programs("/usr/bin/setpriv")
    public static let curl = programs("/usr/bin/curl")
}

/// A small deterministic generator so failures reproduce.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
