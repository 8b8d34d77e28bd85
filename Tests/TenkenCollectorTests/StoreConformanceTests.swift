import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector

/// One suite for every store behind `ReportStore`: the SQLite store and the in-memory double
/// the handler tests use must decide alike.
@Suite("report store conformance")
struct StoreConformanceTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, memory
        var testDescription: String { rawValue }
    }

    /// A fresh store of a kind, and what the tests sign with.
    struct Subject {
        let store: any ReportStore
        let scratch: ScratchTree
        static let compact: CompactToken = {
            let key = MachineKey(privateKey: Curve25519.Signing.PrivateKey())
            return CompactToken(try! JWS.verify(try! JWS.sign(Array(#"{"x":1}"#.utf8), with: key)))!
        }()

        init(_ kind: Kind) throws {
            scratch = try ScratchTree()
            store =
                switch kind {
                case .sqlite: try SQLiteReportStore(path: scratch.path + "/collector.sqlite")
                case .memory: InMemoryReportStore()
                }
        }

        func token(machine: String? = nil, policy: String? = nil, now: Int = 100) async throws -> String {
            let hash = CollectorApplication.tokenHash(CollectorApplication.newToken())
            try await store.addEnrollmentToken(
                hash: hash, now: now, policyDigest: policy, expiresAt: now + 1000, machine: machine)
            return hash
        }

        func enroll(_ key: String, machineID: String = "m1", serial: String? = "S1", token: String? = nil)
            async throws -> EnrollmentOutcome
        {
            let hash: String
            if let token { hash = token } else { hash = try await self.token() }
            return try await store.enroll(
                tokenHash: hash,
                machine: EnrolledMachine(
                    keyID: key, publicKey: "pk-" + key, machineID: machineID, hostname: "host-" + key,
                    dmiSerial: serial),
                now: 200)
        }

        func store(
            machine: String, key: String? = nil, sequence: Int, id: String? = nil, hostname: String = "h",
            policy: String = PolicyDigest.embeddedDefault, updates: [UpdateSighting] = []
        ) async throws -> StoreOutcome {
            try await store.store(
                StoredReport(
                    reportID: id ?? "\(machine)-\(sequence)", keyID: machine, sequence: sequence,
                    receivedAt: 300 + sequence,
                    startedAt: 250, hostname: hostname, policyID: "p", verdict: "compliant", signed: Self.compact,
                    problems: [], securityUpdates: updates, signingKeyID: key ?? machine, policyDigest: policy,
                    findingsCoverPolicy: true))
        }
    }

    @Test(
        "tokens: listed newest first, revoked only unused and by exact id, refused when expired",
        arguments: Kind.allCases)
    func tokens(kind: Kind) async throws {
        let subject = try Subject(kind)
        let old = try await subject.token(now: 100)
        let new = try await subject.token(now: 150)
        #expect(
            try await subject.store.enrollmentTokens().map(\.id) == [String(new.prefix(12)), String(old.prefix(12))])
        #expect(try await subject.store.revokeEnrollmentToken(id: String(old.prefix(11)), now: 160) == 0)
        #expect(try await subject.store.revokeEnrollmentToken(id: String(old.prefix(12)), now: 160) == 1)
        #expect(try await subject.enroll("k1", token: old) == .tokenRefused)
        #expect(try await subject.enroll("k1", token: new) == .enrolled(machine: "k1", lastSequence: 0))
        #expect(try await subject.store.revokeEnrollmentToken(id: String(new.prefix(12)), now: 160) == 0)
        let expired = CollectorApplication.tokenHash("expired")
        try await subject.store.addEnrollmentToken(
            hash: expired, now: 10, policyDigest: nil, expiresAt: 199, machine: nil)
        #expect(try await subject.enroll("k2", machineID: "m2", token: expired) == .tokenRefused)
    }

    @Test(
        "enrollment: the same key again, another key for the same machine, a clone, a token for a machine, a retired key",
        arguments: Kind.allCases)
    func enrollment(kind: Kind) async throws {
        let subject = try Subject(kind)
        #expect(try await subject.enroll("k1") == .enrolled(machine: "k1", lastSequence: 0))
        #expect(try await subject.store(machine: "k1", sequence: 1) == .stored)
        #expect(try await subject.enroll("k1") == .enrolled(machine: "k1", lastSequence: 1))
        let kept = try await subject.token()
        #expect(try await subject.enroll("k2", token: kept) == .alreadyEnrolled(machine: "k1"))
        #expect(try await subject.enroll("k2", serial: nil) == .alreadyEnrolled(machine: "k1"))
        #expect(try await subject.enroll("k3", serial: "S2", token: kept) == .enrolled(machine: "k3", lastSequence: 0))
        let forK1 = try await subject.token(machine: "k1", policy: "sha256:" + String(repeating: "a", count: 64))
        #expect(try await subject.enroll("k2", token: forK1) == .replacedKey(machine: "k1", lastSequence: 1))
        #expect(try await subject.store.signingKey(keyID: "k1")?.retired == true)
        let k2 = try #require(try await subject.store.signingKey(keyID: "k2"))
        #expect(k2.machine.keyID == "k1" && k2.publicKey == "pk-k2" && k2.machine.publicKey == "pk-k2")
        #expect(k2.machine.policyDigest == "sha256:" + String(repeating: "a", count: 64))
        #expect(try await subject.enroll("k1", machineID: "m9") == .keyRetired)
        #expect(try await subject.store.removeMachine(keyID: "k3", now: 250))
        let forRemoved = try await subject.token(machine: "k3")
        #expect(try await subject.enroll("k4", serial: "S2", token: forRemoved) == .tokenRefused)
        #expect(try await subject.store.fleet().map(\.machine.keyID) == ["k1"])
    }

    @Test(
        "storing: duplicates, ids of another machine, replays, sequences far ahead, removed machines, full checks",
        arguments: Kind.allCases)
    func storing(kind: Kind) async throws {
        let subject = try Subject(kind)
        _ = try await subject.enroll("k1")
        _ = try await subject.enroll("k2", machineID: "m2")
        #expect(try await subject.store(machine: "k1", sequence: 1, hostname: "host-k1") == .stored)
        #expect(try await subject.store(machine: "k1", sequence: 1) == .duplicate)
        #expect(try await subject.store(machine: "k2", sequence: 5, id: "k1-1") == .idTaken)
        #expect(try await subject.store(machine: "k1", sequence: 1, id: "again") == .replayed)
        #expect(try await subject.store(machine: "k1", sequence: 10_002) == .sequenceTooFarAhead(last: 1))
        #expect(
            try await subject.store(machine: "k1", sequence: 2, hostname: "renamed", policy: "sha256:other") == .stored)
        #expect(try await subject.store.setPolicy(keyID: "k1", digest: "sha256:other"))
        #expect(try await subject.store(machine: "k1", sequence: 3, policy: "sha256:other") == .stored)
        #expect(try await subject.store.reportHeaders(keyID: "k1").map(\.fullCheck) == [true, false, true])
        let states = try await subject.store.fleet()
        #expect(states.first { $0.machine.keyID == "k1" }?.lastReport?.sequence == 3)
        #expect(states.first { $0.machine.keyID == "k1" }?.reportedHostname == "h")
        #expect(try await subject.store.removeMachine(keyID: "k2", now: 400))
        #expect(try await subject.store(machine: "k2", sequence: 1) == .unknownMachine)
        #expect(try await subject.store.removeMachine(keyID: "k2", now: 400) == false)
        #expect(try await subject.store.setPolicy(keyID: "k2", digest: "sha256:other") == false)
        #expect(try await subject.store.report(id: "k1-2")?.hostname == "renamed")
    }

    @Test(
        "rotation: the old key is good until the new one is used, asked twice the same answer, a taken key refused",
        arguments: Kind.allCases)
    func rotation(kind: Kind) async throws {
        let subject = try Subject(kind)
        _ = try await subject.enroll("k1")
        _ = try await subject.enroll("other", machineID: "m2")
        #expect(try await subject.store.rotateKey(from: "k1", to: "other", publicKey: "x", now: 300) == .keyInUse)
        #expect(
            try await subject.store.rotateKey(from: "k1", to: "k2", publicKey: "pk-k2", now: 300)
                == .rotated(machine: "k1"))
        #expect(
            try await subject.store.rotateKey(from: "k1", to: "k2", publicKey: "pk-k2", now: 301)
                == .rotated(machine: "k1"))
        #expect(try await subject.store(machine: "k1", key: "k1", sequence: 1) == .stored)
        #expect(try await subject.store(machine: "k1", key: "k2", sequence: 2) == .stored)
        #expect(try await subject.store(machine: "k1", key: "k1", sequence: 3) == .unknownMachine)
        #expect(try await subject.store.signingKey(keyID: "k1")?.retired == true)
        #expect(try await subject.store.machine(keyID: "k1")?.publicKey == "pk-k2")
        #expect(try await subject.store.rotateKey(from: "k1", to: "k3", publicKey: "x", now: 302) == .unknownKey)
        #expect(try await subject.store.rotateKey(from: "nosuch", to: "k3", publicKey: "x", now: 302) == .unknownKey)
        #expect(try await subject.store.reports(keyID: "k1").map(\.sequence) == [1, 2])
    }

    @Test("rotating without end keeps the newest retired keys only", arguments: Kind.allCases)
    func retiredKeysBounded(kind: Kind) async throws {
        let subject = try Subject(kind)
        _ = try await subject.enroll("k0")
        let rotations = ReportAdmission.retiredKeysKept + 5
        for index in 1...rotations {
            #expect(
                try await subject.store.rotateKey(
                    from: "k\(index - 1)", to: "k\(index)", publicKey: "pk-k\(index)", now: 300 + index)
                    == .rotated(machine: "k0"))
            #expect(try await subject.store(machine: "k0", key: "k\(index)", sequence: index) == .stored)
        }
        let known = try await (0...rotations).asyncFilter { try await subject.store.signingKey(keyID: "k\($0)") != nil }
        // The current key and the newest retired ones; the oldest are forgotten.
        #expect(known == Array((rotations - ReportAdmission.retiredKeysKept)...rotations), "\(known)")
        #expect(try await subject.store.signingKey(keyID: "k\(rotations)")?.retired == false)
        #expect(try await subject.store.signingKey(keyID: "k\(rotations - 1)")?.retired == true)
    }

    @Test(
        """
        sightings: the earliest kept, what the latest full check does not name forgotten, other reports change \
        nothing, the oldest pending shown
        """,
        arguments: Kind.allCases)
    func sightings(kind: Kind) async throws {
        let subject = try Subject(kind)
        _ = try await subject.enroll("k1")
        func pendingSince() async throws -> Int? { try await subject.store.fleet()[0].securityPendingSince }
        let openssl = UpdateSighting(package: "openssl", installed: "3.0.1", firstSeen: 100)
        #expect(try await subject.store(machine: "k1", sequence: 1, updates: [openssl]) == .stored)
        #expect(try await pendingSince() == 100)
        // A later claim of the same update does not make it younger.
        let later = UpdateSighting(package: "openssl", installed: "3.0.1", firstSeen: 500)
        #expect(try await subject.store(machine: "k1", sequence: 2, updates: [later]) == .stored)
        #expect(try await pendingSince() == 100)
        // Upgraded to a version that is itself pending: the old sighting is forgotten.
        let upgraded = UpdateSighting(package: "openssl", installed: "3.0.2", firstSeen: 600)
        #expect(try await subject.store(machine: "k1", sequence: 3, updates: [upgraded]) == .stored)
        #expect(try await pendingSince() == 600)
        #expect(try await subject.store(machine: "k1", sequence: 4) == .stored)
        #expect(try await pendingSince() == nil)
        // Only what the latest full check names is kept: a package named once and then not is
        // forgotten, so naming new packages in each report grows nothing.
        let curl = UpdateSighting(package: "curl", installed: "7.88", firstSeen: 700)
        let libc = UpdateSighting(package: "libc6", installed: "2.36", firstSeen: 710)
        #expect(try await subject.store(machine: "k1", sequence: 5, updates: [curl]) == .stored)
        #expect(try await subject.store(machine: "k1", sequence: 6, updates: [libc]) == .stored)
        let curlAgain = UpdateSighting(package: "curl", installed: "7.88", firstSeen: 900)
        #expect(try await subject.store(machine: "k1", sequence: 7, updates: [curlAgain, libc]) == .stored)
        #expect(try await pendingSince() == 710)
        // A report that is not a full check (another policy) changes no sighting: it names no
        // update here, and the next full check still knows libc6 since 710.
        let other = "sha256:" + String(repeating: "c", count: 64)
        #expect(try await subject.store(machine: "k1", sequence: 8, policy: other) == .stored)
        #expect(try await pendingSince() == 710)
        let libcLater = UpdateSighting(package: "libc6", installed: "2.36", firstSeen: 950)
        #expect(try await subject.store(machine: "k1", sequence: 9, updates: [libcLater]) == .stored)
        #expect(try await pendingSince() == 710)
    }

    @Test(
        """
        a known key: its policy kept, another identity refused, moved only by a token for its machine and never \
        into another machine's place, retired with its machine
        """,
        arguments: Kind.allCases)
    func knownKeys(kind: Kind) async throws {
        let subject = try Subject(kind)
        let policy = "sha256:" + String(repeating: "b", count: 64)
        _ = try await subject.enroll("k1")
        #expect(try await subject.store.setPolicy(keyID: "k1", digest: policy))
        #expect(try await subject.enroll("k1") == .enrolled(machine: "k1", lastSequence: 0))
        #expect(try await subject.store.machine(keyID: "k1")?.policyDigest == policy)
        #expect(try await subject.enroll("k1", machineID: "m2") == .identityChanged(machine: "k1"))
        #expect(try await subject.enroll("k1", serial: "S7") == .identityChanged(machine: "k1"))
        _ = try await subject.enroll("k5", machineID: "m5")
        let intoK5 = try await subject.token(machine: "k1")
        #expect(try await subject.enroll("k1", machineID: "m5", token: intoK5) == .alreadyEnrolled(machine: "k5"))
        #expect(try await subject.enroll("k9", machineID: "m5", token: intoK5) == .alreadyEnrolled(machine: "k5"))
        #expect(
            try await subject.enroll("k1", machineID: "m3", token: intoK5) == .enrolled(machine: "k1", lastSequence: 0))
        #expect(try await subject.store.machine(keyID: "k1")?.machineID == "m3")
        #expect(try await subject.store.removeMachine(keyID: "k1", now: 400))
        #expect(try await subject.enroll("k1", machineID: "m3") == .keyRetired)
        #expect(try await subject.store.signingKey(keyID: "k1")?.retired == true)
        #expect(try await subject.store.signingKey(keyID: "k5")?.retired == false)
        #expect(try await subject.store.signingKey(keyID: "never") == nil)
    }

    @Test(
        "a pending rotation: the old key cannot replace it, the pending key can; the old key good until it is used",
        arguments: Kind.allCases)
    func pendingRotation(kind: Kind) async throws {
        let subject = try Subject(kind)
        _ = try await subject.enroll("k1")
        #expect(
            try await subject.store.rotateKey(from: "k1", to: "k2", publicKey: "pk-k2", now: 300)
                == .rotated(machine: "k1"))
        #expect(
            try await subject.store.rotateKey(from: "k1", to: "k3", publicKey: "pk-k3", now: 301) == .rotationPending)
        #expect(
            try await subject.store.rotateKey(from: "k2", to: "k3", publicKey: "pk-k3", now: 302)
                == .rotated(machine: "k1"))
        #expect(try await subject.store.signingKey(keyID: "k2")?.retired == true)
        #expect(try await subject.store(machine: "k1", key: "k1", sequence: 1) == .stored)
        #expect(try await subject.store(machine: "k1", key: "k2", sequence: 2) == .unknownMachine)
        #expect(try await subject.store(machine: "k1", key: "k3", sequence: 3) == .stored)
        #expect(try await subject.store.signingKey(keyID: "k1")?.retired == true)
        #expect(try await subject.store.machine(keyID: "k1")?.publicKey == "pk-k3")
    }
}

extension Sequence {
    /// The elements `keep` says yes to, asked one after another.
    fileprivate func asyncFilter(_ keep: (Element) async throws -> Bool) async rethrows -> [Element] {
        var kept: [Element] = []
        for element in self where try await keep(element) { kept.append(element) }
        return kept
    }
}
