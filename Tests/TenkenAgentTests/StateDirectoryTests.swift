import Foundation
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

/// The agent's own state is attackable: a planted key, link or counter must be refused with the
/// path and the fix, never used or followed.
@Suite("state directory")
struct StateDirectoryTests {
    private func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("a state directory others may write, or another user owns, is refused: no key is used or made")
    func unsafeDirectory() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        _ = try MachineKey.loadOrCreate(stateDirectory: state)
        chmod(state, 0o777)
        #expect(
            message { _ = try MachineKey.loadOrCreate(stateDirectory: state) }
                == "\(state): writable by others (mode 777): chmod 700 it")
        #expect(
            message { _ = try SequenceCounter.next(stateDirectory: state) }.hasPrefix("\(state): writable by others"))
        chmod(state, 0o700)
        if getuid() == 0 {
            chown(state, 65534, 65534)
            #expect(
                message { _ = try MachineKey.loadOrCreate(stateDirectory: state) }.contains(
                    "\(state): owned by uid 65534"))
            chown(state, 0, 0)
        }
        _ = try MachineKey.loadOrCreate(stateDirectory: state)
    }

    @Test("a state directory under a parent others may write (not sticky) is refused, naming the parent")
    func unsafeParent() throws {
        let scratch = try ScratchTree()
        try FileManager.default.createDirectory(atPath: scratch.path + "/shared", withIntermediateDirectories: true)
        chmod(scratch.path + "/shared", 0o777)
        let message = message { _ = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/shared/state") }
        #expect(message.hasPrefix("\(scratch.path)/shared: a parent of tenken's state directory"), "\(message)")
        chmod(scratch.path + "/shared", 0o1777)
        _ = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/shared/state")
    }

    @Test("a planted key file: a link, or one others may read, is refused")
    func plantedKey() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        let key = try MachineKey.loadOrCreate(stateDirectory: state)
        let path = state + "/" + MachineKey.fileName
        chmod(path, 0o644)
        #expect(
            message { _ = try MachineKey.loadOrCreate(stateDirectory: state) }
                == "\(path): readable or writable by others (mode 644): chmod 600 it")
        try FileManager.default.moveItem(atPath: path, toPath: scratch.path + "/elsewhere.key")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: scratch.path + "/elsewhere.key")
        #expect(
            message { _ = try MachineKey.loadOrCreate(stateDirectory: state) }.hasPrefix("\(path): a symbolic link"))
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: scratch.path + "/elsewhere.key", toPath: path)
        chmod(path, 0o600)
        #expect(try MachineKey.loadOrCreate(stateDirectory: state).jwk == key.jwk)
    }

    @Test("a spool link is not followed, even in a state directory of our own; nothing is written through it")
    func spoolLink() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        let key = try MachineKey.loadOrCreate(stateDirectory: state)
        try FileManager.default.createDirectory(atPath: scratch.path + "/trap", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: state + "/spool", withDestinationPath: scratch.path + "/trap")
        let spool = Spool(stateDirectory: state)
        let token = try JWS.sign(Array("{}".utf8), with: key)
        #expect(
            message { _ = try spool.enqueue(token, sequence: 1, reportID: "r1") }.hasPrefix(
                "\(state)/spool: a symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/trap").isEmpty)
        let pending = spool.pending()
        #expect(pending.entries.isEmpty)
        #expect(pending.rejected.first?.hasPrefix("\(state)/spool: a symbolic link") == true, "\(pending.rejected)")
    }

    @Test("first runs at once make one machine key, not one each")
    func oneKey() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        let keys = Mutex<Set<String>>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            if let key = try? MachineKey.loadOrCreate(stateDirectory: state) {
                keys.withLock { _ = $0.insert(key.jwk) }
            }
        }
        #expect(keys.withLock { $0.count } == 1)
        #expect(try MachineKey.loadOrCreate(stateDirectory: state).jwk == keys.withLock { $0.first })
    }

    @Test("a spool that cannot be trusted is named as such, not taken for another sender")
    func spoolProblem() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        #expect(Spool(stateDirectory: state).problem() == nil, "no state yet: nothing wrong")
        _ = try MachineKey.loadOrCreate(stateDirectory: state)
        try FileManager.default.createDirectory(atPath: state + "/spool", withIntermediateDirectories: true)
        chmod(state + "/spool", 0o777)
        #expect(
            Spool(stateDirectory: state).problem()?.message(in: .en)
                == "\(state)/spool: writable by others (mode 777): chmod 700 it")
    }

    @Test("a ledger label or serial with a newline cannot add a USBGuard rule of its own")
    func usbguardInjection() {
        let ledger = Ledger(media: [
            Ledger.Medium(
                device: "0781:5581:AB\nallow", label: "stick\nallow with-interface equals { 08:*:* }", owner: nil,
                encrypted: false)
        ])
        let rules = ledger.usbguardRules
        #expect(rules.split(separator: "\n").count == 1, "\(rules)")
        #expect(!rules.contains("\nallow"))
    }

    @Test("a sequence file that exists in any form is never reset: a link, a directory, damaged text")
    func sequenceNeverReset() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        #expect(try SequenceCounter.next(stateDirectory: state) == 1)
        #expect(try SequenceCounter.next(stateDirectory: state) == 2)
        let path = state + "/" + SequenceCounter.fileName
        try FileManager.default.removeItem(atPath: path)
        try scratch.write("planted", "0\n")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: scratch.path + "/planted")
        #expect(message { _ = try SequenceCounter.next(stateDirectory: state) }.hasPrefix("\(path): a symbolic link"))
        #expect(try String(contentsOfFile: scratch.path + "/planted", encoding: .utf8) == "0\n")
        #expect(
            (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil, "the link is left for a person")
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(!message { _ = try SequenceCounter.next(stateDirectory: state) }.isEmpty)
        try FileManager.default.removeItem(atPath: path)
        try scratch.write("state/sequence", "2\n", mode: 0o600)
        #expect(try SequenceCounter.next(stateDirectory: state) == 3)
    }

    @Test("state and spool directories are made 0700 whatever the umask", Needs.programs("/bin/sh"))
    func createdPrivate() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        // A umask of 000 in a process of its own (the tests share this process's umask).
        let result = try run([
            "/bin/sh", "-c",
            "umask 000 && exec \"$0\" check --root \"$1\" --rules no-p2p-software --sign --spool"
                + " --state-dir \"$2\" --out \"$3\"",
            Programs.tenken, Fixture.path("debian-clean"), state, scratch.path + "/report.jws",
        ])
        #expect(result.status == 0, "\(result.error)")
        for directory in [state, state + "/spool"] {
            var info = stat()
            #expect(lstat(directory, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700, "\(directory): \(String(info.st_mode & 0o777, radix: 8))")
        }
        var key = stat()
        #expect(lstat(state + "/" + MachineKey.fileName, &key) == 0 && key.st_mode & 0o777 == 0o600)
    }
}
