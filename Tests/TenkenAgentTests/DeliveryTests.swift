import Foundation
import Synchronization
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("sequence and spool")
struct DeliveryTests {
    @Test("sequence numbers are unique and increasing across threads, and survive restarts")
    func sequence() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        let taken = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<25 {
                if let number = try? SequenceCounter.next(stateDirectory: state) {
                    taken.withLock { $0.append(number) }
                }
            }
        }
        #expect(taken.withLock { $0 }.sorted() == Array(1...200))
        #expect(try SequenceCounter.next(stateDirectory: state) == 201)
        try scratch.write("state/sequence", "garbage\n")
        #expect(throws: SequenceCounter.Failure.self) { try SequenceCounter.next(stateDirectory: state) }
    }

    @Test("a sequence lock held by a stuck process ends in an error naming the lock, not a wait forever")
    func stuckLock() throws {
        let scratch = try ScratchTree()
        let state = scratch.path + "/state"
        #expect(try SequenceCounter.next(stateDirectory: state) == 1)
        let held = open(state + "/sequence.lock", O_RDWR)
        defer { close(held) }
        #expect(flock(held, LOCK_EX) == 0)
        let started = ContinuousClock.now
        #expect {
            try SequenceCounter.next(stateDirectory: state, waitingAtMost: 0.3) { (_: Int) throws(Never) in }
        } throws: { error in
            "\(error)".contains("\(state)/sequence.lock: another process has held this lock for over 0.3 s")
        }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        flock(held, LOCK_UN)
        #expect(try SequenceCounter.next(stateDirectory: state) == 2, "nothing was taken while it waited")
    }

    @Test(
        "the spool returns signed reports in sequence order, sets other files aside, and forgets only acknowledged ones"
    )
    func spool() throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let spool = Spool(stateDirectory: scratch.path)
        for sequence in [3, 1, 2] {
            _ = try spool.enqueue(
                try JWS.sign(Array("{\"sequence\":\(sequence)}".utf8), with: key), sequence: sequence,
                reportID: "r\(sequence)")
        }
        try scratch.write("spool/000000000009-bad.jws", "not a report")
        try scratch.write("spool/.000000000010-x.jws.tmp-1", "half written")  // an interrupted write: ignored
        var (entries, rejected) = spool.pending()
        #expect(entries.map(\.sequence) == [1, 2, 3])
        #expect(rejected.count == 1 && rejected[0].contains("moved to"))
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/spool/rejected/000000000009-bad.jws"))
        try spool.acknowledge(entries[0])
        (entries, rejected) = spool.pending()
        #expect(entries.map(\.sequence) == [2, 3] && rejected.isEmpty)
        var info = stat()
        #expect(stat(scratch.path + "/spool/" + entries[0].name, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test("check --sign --spool: numbered, identified, signed reports queue up")
    func commandLine() throws {
        let scratch = try ScratchTree()
        for _ in 0..<2 {
            let result = try run([
                Programs.tenken, "check", "--root", Fixture.path("workstation"), "--rules", "no-p2p-software",
                "--sign", "--spool", "--out", scratch.path + "/last.jws", "--state-dir", scratch.path + "/state",
            ])
            #expect(result.status == 1, "\(result.error)")
        }
        let entries = Spool(stateDirectory: scratch.path + "/state").pending().entries
        #expect(entries.map(\.sequence) == [1, 2])
        let report = try JSONDecoder().decode(CheckReport.self, from: Data(try JWS.verify(entries[1].token).payload))
        #expect(report.sequence == 2)
        #expect(entries[1].name.hasSuffix("-" + report.reportID + ".jws"))
        #expect(try run([Programs.tenken, "check", "--spool", "--state-dir", scratch.path + "/state"]).status == 2)
    }
}
