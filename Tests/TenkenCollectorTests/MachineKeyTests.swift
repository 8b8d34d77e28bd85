import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// Which key speaks for which machine, against the real collector on loopback: a second key for
/// an enrolled machine, a token issued for a machine, rotation signed by the current key, and
/// the policy an administrator sets for a machine.
@Suite("collector machine keys", Needs.curl)
struct MachineKeyTests {
    let scratch: ScratchTree
    let collector: LoopbackCollector
    let curl: Curl
    let tool = [LoopbackCollector.binary]
    var database: [String] { ["--database", collector.database] }

    init() async throws {
        scratch = try ScratchTree()
        collector = try await LoopbackCollector(directory: scratch.path + "/collector")
        curl = Curl(ca: collector.files.caCertificate, base: collector.base)
    }

    func key(_ name: String) throws -> MachineKey {
        try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/" + name)
    }

    func enroll(_ key: MachineKey, token: String? = nil, dmiSerial: String? = "S1") async throws -> Curl.Reply {
        var token = token
        if token == nil { token = try await collector.enrollmentToken() }
        return try await CollectorTests.enroll(curl, token: token!, key: key, dmiSerial: dmiSerial)
    }

    func report(_ key: MachineKey, _ sequence: Int, dmiSerial: String? = "S1") async throws -> Int {
        let signer = CollectorTests.Signer(scratch: scratch, key: key, dmiSerial: dmiSerial)
        return try await curl.post("/api/v1/reports", file: try signer.signed(sequence: sequence).0).status
    }

    func rotate(_ token: String) async throws -> Curl.Reply {
        try scratch.write("rotate.jws", token)
        return try await curl.post("/api/v1/rotate", file: scratch.path + "/rotate.jws")
    }

    @Test(
        """
        another key for an enrolled machine is refused and the token kept; a clone with a DMI serial of its own is \
        a machine of its own; a token issued for a machine gives it a new key, retiring the old one
        """
    )
    func secondKeys() async throws {
        defer { collector.kill9() }
        let first = try key("first")
        let machine = MachineKey.thumbprint(first.publicKey)
        let enrolled = try await enroll(first)
        #expect(enrolled.status == 201 && enrolled.body.contains(#""lastSequence":0"#), "\(enrolled.body)")
        #expect(try await report(first, 1) == 201)
        #expect(try await report(first, 2) == 201)

        // The same machine (machine-id and DMI serial) with a new key and an ordinary token.
        let second = try key("second")
        let token = try await collector.enrollmentToken()
        let refused = try await enroll(second, token: token)
        #expect(refused.status == 409 && refused.body.contains("token --machine \(machine)"), "\(refused.body)")
        #expect(try await collector.store.enrollmentTokens().filter { $0.usedAt == nil }.count == 1)
        // Without a DMI serial it is known by machine-id alone: refused too.
        #expect(try await enroll(try key("no-serial"), dmiSerial: nil).status == 409)
        // A clone with a serial of its own is another machine, and may use the kept token.
        let clone = try key("clone")
        #expect(try await enroll(clone, token: token, dmiSerial: "S2").status == 201)
        #expect(try await collector.store.fleet().count == 2)

        // A token for the machine gives it the new key; its reports go on above the stored ones.
        let unknown = try await runDetached(tool + ["token", "--machine", "nosuchkey"] + database)
        #expect(unknown.status != 0)
        let issued = try await runDetached(
            tool + ["token", "--machine", machine] + database, environment: ["LANG": "C"])
        let forMachine = issued.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(issued.status == 0 && forMachine.hasPrefix("tk_"), "\(issued.error)")
        let listed = try await runDetached(tool + ["tokens", "list"] + database, environment: ["LANG": "C"])
        #expect(listed.output.contains("new key for \(machine)"), "\(listed.output)")
        let replaced = try await enroll(second, token: forMachine)
        #expect(replaced.status == 201, "\(replaced.body)")
        #expect(replaced.body.contains(#""machine":"\#(machine)""#) && replaced.body.contains(#""lastSequence":2"#))
        #expect(try await report(first, 3) == 409)  // retired: refused for good
        #expect(try await report(second, 3) == 201)
        #expect(try await collector.store.reports(keyID: machine).map(\.sequence) == [1, 2, 3])
        let states = try await collector.store.fleet()
        #expect(states.count == 2)
        let state = try #require(states.first { $0.machine.keyID == machine })
        #expect(state.machine.publicKey == Base64URL.encode(second.publicKey.rawRepresentation))
        // A retired key is never enrolled again, whatever the token.
        let again = try await enroll(first)
        #expect(again.status == 409 && again.body.contains("replaced"), "\(again.body)")
        // The same key enrolled again is the same machine, as before.
        let same = try await enroll(second)
        #expect(same.status == 201 && same.body.contains(#""machine":"\#(machine)""#), "\(same.body)")
    }

    @Test(
        """
        a rotation signed by the current key: the old key stays good until the new one signs a stored report; \
        asked twice, the same answer; forged proofs, stale times, weak or taken keys and retired signers refused
        """
    )
    func signedRotation() async throws {
        defer { collector.kill9() }
        let old = try key("old")
        let machine = MachineKey.thumbprint(old.publicKey)
        #expect(try await enroll(old).status == 201)
        #expect(try await report(old, 1) == 201)
        let other = try key("other")
        #expect(try await enroll(other, dmiSerial: "S9").status == 201)

        let new = try key("new")
        let now = Timestamp.seconds()
        // Refused: the proof made by another key, a time an hour off, a small-order key, a taken
        // key, a report sent as a rotation, and a rotation to the signer itself.
        func request(payload: [String: String]) throws -> String {
            try JWS.sign(Array(try JSONSerialization.data(withJSONObject: payload, options: .sortedKeys)), with: old)
        }
        let genuine = try KeyRotation.request(current: old, next: new, issuedAt: now)
        let payload = try JSONSerialization.jsonObject(with: Data(try JWS.verify(genuine).payload)) as! [String: String]
        var forged = payload
        forged["proof"] = Base64URL.encode(
            try other.privateKey.signature(
                for: KeyRotation.proofMessage(
                    current: machine, next: MachineKey.thumbprint(new.publicKey), issuedAt: payload["issuedAt"]!)))
        #expect(try await rotate(try request(payload: forged)).body.contains("proof"))
        let stale = try await rotate(try KeyRotation.request(current: old, next: new, issuedAt: now - 3600))
        #expect(stale.status == 400 && stale.body.contains("issuedAt"), "\(stale.body)")
        var weak = payload
        weak["newPublicKey"] = Base64URL.encode([1] + [UInt8](repeating: 0, count: 31))
        #expect(try await rotate(try request(payload: weak)).body.contains("small"))
        let taken = try await rotate(try KeyRotation.request(current: old, next: other, issuedAt: now))
        #expect(taken.status == 409, "\(taken.body)")
        let (reportFile, _) = try CollectorTests.Signer(scratch: scratch, key: old, dmiSerial: "S1").signed(sequence: 9)
        #expect(try await curl.post("/api/v1/rotate", file: reportFile).status == 400)
        #expect(try await rotate(try KeyRotation.request(current: old, next: old, issuedAt: now)).status == 400)

        let rotated = try await rotate(genuine)
        #expect(rotated.status == 200 && rotated.body.contains(MachineKey.thumbprint(new.publicKey)), "\(rotated.body)")
        #expect(try await rotate(genuine).status == 200)  // the answer was lost: asked again
        // Whoever else holds the old key cannot put a key of theirs in the new one's place.
        let thief = try await rotate(try KeyRotation.request(current: old, next: try key("thief"), issuedAt: now))
        #expect(thief.status == 409 && thief.body.contains("pending"), "\(thief.body)")
        #expect(try await report(old, 2) == 201)  // spooled before the rotation
        #expect(try await report(new, 3) == 201)
        #expect(try await report(old, 4) == 409)  // retired once the new key signed a stored report
        let retired = try await rotate(try KeyRotation.request(current: old, next: try key("third"), issuedAt: now))
        #expect(retired.status == 403, "\(retired.body)")
        #expect(try await collector.store.reports(keyID: machine).map(\.sequence) == [1, 2, 3])
        #expect(try await collector.store.fleet().count == 2)
    }

    @Test("machines set-policy changes which reports are full checks from the next one, in the running collector")
    func setPolicy() async throws {
        defer { collector.kill9() }
        let key = try key("machine")
        let machine = MachineKey.thumbprint(key.publicKey)
        #expect(try await enroll(key).status == 201)
        // The signer checks two rules: not the default policy, so not a full check.
        #expect(try await report(key, 1) == 201)
        let digest = CollectorTests.Signer.policy.digest
        // A policy the collector does not know could never be fully checked: registered first,
        // from a report of a check made with it.
        let unknown = try await runDetached(tool + ["machines", "set-policy", machine, digest] + database)
        #expect(unknown.status != 0 && unknown.error.contains("policies add"), "\(unknown.error)")
        let (sample, _) = try CollectorTests.Signer(scratch: scratch, key: try self.key("sample")).signed(sequence: 1)
        let added = try await runDetached(tool + ["policies", "add", "--report", sample] + database)
        #expect(added.status == 0 && added.output.contains("(2 rules)"), "\(added.error)")
        let listed = try await runDetached(tool + ["policies", "list"] + database)
        #expect(listed.output.contains(digest + "\ttenken-default\t") && listed.output.contains("no-p2p-software,"))
        let set = try await runDetached(tool + ["machines", "set-policy", machine, digest] + database)
        #expect(set.status == 0, "\(set.error)")
        #expect(try await report(key, 2) == 201)
        #expect(try await runDetached(tool + ["machines", "set-policy", machine, "default"] + database).status == 0)
        #expect(try await report(key, 3) == 201)
        // A check of every rule of the built-in policy, with a finding for each: a full check.
        var whole = CollectorTests.Signer(scratch: scratch, key: key, dmiSerial: "S1")
        whole.checked = try PolicyLoader.loadDefault()
        let (file, _) = try whole.signed(sequence: 4)
        #expect(try await curl.post("/api/v1/reports", file: file).status == 201)
        #expect(
            try await collector.store.reportHeaders(keyID: machine).map(\.fullCheck) == [false, true, false, true])
        #expect(try await collector.store.machine(keyID: machine)?.policyDigest == PolicyDigest.embeddedDefault)
        #expect(try await runDetached(tool + ["machines", "set-policy", machine, "md5:00"] + database).status != 0)
        #expect(try await runDetached(tool + ["machines", "set-policy", "nosuch", digest] + database).status != 0)
    }
}
