import Crypto
import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("signed reports")
struct SigningTests {
    @Test("base64url matches Foundation's base64 and refuses what is not canonical")
    func base64url() {
        var generator = SeededGenerator(seed: 42)
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(bytes) == expected)
            #expect(Base64URL.decode(expected) == bytes)
        }
        #expect(Base64URL.decode("AA==") == nil)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AB") == nil)  // non-zero leftover bits
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("AAB") == nil)  // three digits, leftover bits set
        #expect(Base64URL.decode("AAE") == [0, 1])
        #expect(Base64URL.decode("AAAA.A") == nil && Base64URL.decode("AAA\u{00}") == nil)
    }

    @Test("the machine key is created 0600, reused, and refused when others can read it")
    func machineKey() throws {
        let scratch = try ScratchTree()
        let first = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/state")
        var info = stat()
        #expect(stat(scratch.path + "/state/" + MachineKey.fileName, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let second = try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/state")
        #expect(first.publicKey.rawRepresentation == second.publicKey.rawRepresentation)
        chmod(scratch.path + "/state/" + MachineKey.fileName, 0o644)
        #expect(throws: MachineKey.Failure.self) {
            try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/state")
        }
        try scratch.write("bad/" + MachineKey.fileName, [1, 2, 3], mode: 0o600)
        #expect(throws: MachineKey.Failure.self) { try MachineKey.loadOrCreate(stateDirectory: scratch.path + "/bad") }
    }

    @Test("sign and verify; tampering, another key and alg none are refused")
    func roundTrip() throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let payload = Array(#"{"verdict":"compliant"}"#.utf8)
        let token = try JWS.sign(payload, with: key)
        let verified = try JWS.verify(token)
        #expect(verified.payload == payload)
        #expect(try JWS.verify(token, expected: key.publicKey).keyID == MachineKey.thumbprint(key.publicKey))

        let parts = token.split(separator: ".").map(String.init)
        let forged = parts[0] + "." + Base64URL.encode(Array(#"{"verdict":"non-compliant"}"#.utf8)) + "." + parts[2]
        #expect(throws: JWS.Invalid.self) { try JWS.verify(forged) }
        #expect(throws: JWS.Invalid.self) { try JWS.verify(token, expected: Curve25519.Signing.PrivateKey().publicKey) }
        let none = Base64URL.encode(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "."
        #expect(throws: JWS.Invalid.self) { try JWS.verify(none) }
        #expect(throws: JWS.Invalid.self) { try JWS.verify("not a token") }
    }

    @Test("small-order and non-canonical keys, R and S are refused (RFC 8032 §5.1.7); real keys still verify")
    func strictEd25519() throws {
        #expect(Ed25519Vectors.smallOrderPoints.count == 14)
        for point in Ed25519Vectors.smallOrderPoints {
            #expect(StrictEd25519.publicKeyProblem(point) != nil, "\(point)")
            #expect(throws: StrictEd25519.Refused.self) { try StrictEd25519.publicKey(point) }
            #expect(StrictEd25519.signatureProblem(point + [UInt8](repeating: 0, count: 32)) != nil)
            // The forgery the equation alone accepts: refused by JWS.verify, with the reason.
            let identity = Ed25519Vectors.smallOrderPoints[0]
            #expect(
                throws: JWS.Invalid.self, "\(point)",
                performing: { try JWS.verify(Ed25519Vectors.forgedToken(key: point, r: identity)) })
        }
        #expect(throws: JWS.Invalid(reason: "the header's key is refused: the public key is a point of small order")) {
            try JWS.verify(
                Ed25519Vectors.forgedToken(key: [UInt8](repeating: 0, count: 32), r: Ed25519Vectors.smallOrderPoints[0])
            )
        }
        // Off the curve (y = 2), and real keys with a point of order 4 or 8 added (in the curve,
        // not in its prime-order subgroup): refused, and `tenken verify` refuses what they sign.
        let offCurve = [2] + [UInt8](repeating: 0, count: 31)
        var outside = [offCurve]
        for _ in 0..<20 {
            let real = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
            for torsion in [4, 6, 8] {
                outside.append(Ed25519Vectors.adding(real, Ed25519Vectors.smallOrderPoints[torsion]))
            }
        }
        for point in outside {
            #expect(
                StrictEd25519.publicKeyProblem(point)
                    == "the public key is not a point of the curve's prime-order subgroup",
                "\(point)")
        }
        // Real keys pass; S at or above the group order L does not, S = L − 1 does.
        let order = Ed25519Vectors.hexBytes("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let key = Curve25519.Signing.PrivateKey()
            #expect(StrictEd25519.publicKeyProblem(Array(key.publicKey.rawRepresentation)) == nil)
            let message = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let signature = Array(try key.signature(for: message))
            #expect(StrictEd25519.signatureProblem(signature) == nil)
            #expect(key.publicKey.isValidSignature(signature, for: message))
            // S + L (below 2^256, as S < L < 2^253) is the same scalar: a lax verifier accepts it.
            var carry = 0
            var malleable = signature
            for index in 0..<32 {
                let sum = Int(signature[32 + index]) + Int(order[index]) + carry
                malleable[32 + index] = UInt8(sum & 0xFF)
                carry = sum >> 8
            }
            #expect(StrictEd25519.signatureProblem(malleable)?.contains("group order") == true)
        }
        let rOfRealPoint = Array(try Curve25519.Signing.PrivateKey().signature(for: [1]).prefix(32))
        #expect(StrictEd25519.signatureProblem(rOfRealPoint + order)?.contains("not below the group order") == true)
        var belowOrder = order
        belowOrder[0] -= 1
        #expect(StrictEd25519.signatureProblem(rOfRealPoint + belowOrder) == nil)
        #expect(StrictEd25519.publicKeyProblem([1, 2, 3]) != nil && StrictEd25519.signatureProblem([]) != nil)
    }

    @Test(
        "header parameters tenken does not write are refused: b64, jku, x5u, a private jwk member, a wrong kid or typ")
    func unknownHeaderParameters() throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let payload = Base64URL.encode(Array(#"{"verdict":"compliant"}"#.utf8))
        let jwk = key.jwk
        let kid = MachineKey.thumbprint(key.publicKey)
        func token(_ header: String) throws -> String {
            let input = Base64URL.encode(Array(header.utf8)) + "." + payload
            return input + "." + Base64URL.encode(Array(try key.privateKey.signature(for: Array(input.utf8))))
        }
        #expect((try? JWS.verify(try token(#"{"alg":"EdDSA","jwk":\#(jwk),"kid":"\#(kid)"}"#))) != nil)
        let refused: [(String, String)] = [
            (#"{"alg":"EdDSA","b64":false,"jwk":\#(jwk)}"#, "header parameter b64 is not supported"),
            (#"{"alg":"EdDSA","jku":"https://x","jwk":\#(jwk)}"#, "header parameter jku is not supported"),
            (#"{"alg":"EdDSA","x5u":"https://x","jwk":\#(jwk)}"#, "header parameter x5u is not supported"),
            (
                #"{"alg":"EdDSA","jwk":{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(key.publicKey.rawRepresentation))","d":"AA"}}"#,
                "jwk member d is not accepted"
            ),
            (#"{"alg":"EdDSA","jwk":\#(jwk),"kid":"other"}"#, "the header's kid is not the key's thumbprint"),
            (#"{"alg":"EdDSA","jwk":\#(jwk),"typ":"JWT"}"#, "header type JWT is not accepted (tenken-report+jws only)"),
        ]
        for (header, reason) in refused {
            #expect(throws: JWS.Invalid(reason: reason), "\(header)") { try JWS.verify(try token(header)) }
        }
    }

    @Test(
        """
        an independent JOSE library (Python joserfc) verifies the report and agrees on the RFC 7638 thumbprint; \
        the zstd tool reads a compressed one
        """,
        Needs.pythonModule("joserfc"), Needs.programs("/usr/bin/zstd"), arguments: [false, true])
    func independentVerifier(compressed: Bool) throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let report = Check.run(
            root: try Fixture.root("workstation"),
            policy: try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get(), now: Fixture.now)
        let json = Array(try report.json())
        let token = try ReportPayload.sign(json, with: key, compressed: compressed)
        try scratch.write("report.jws", token)
        let script = """
            import base64, json, subprocess, sys, warnings
            warnings.simplefilter("ignore")
            from joserfc import jws
            from joserfc.jwk import OKPKey
            token = open(sys.argv[1]).read().strip()
            header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
            key = OKPKey.import_key(header["jwk"])
            result = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
            payload = result.payload
            if header.get("cty") == "application/zstd":
                payload = subprocess.run(["zstd", "-d", "-c", "-q"], input=payload, capture_output=True, check=True).stdout
            sys.stdout.buffer.write(payload)
            sys.stderr.write(" ".join([header.get("cty", "-"), key.thumbprint(), header["kid"]]))
            """
        try scratch.write("verify.py", script)
        let result = try run(["/usr/bin/env", "python3", scratch.path + "/verify.py", scratch.path + "/report.jws"])
        #expect(result.status == 0, "\(result.error)")
        let thumbprint = MachineKey.thumbprint(key.publicKey)
        #expect(result.error == "\(compressed ? "application/zstd" : "-") \(thumbprint) \(thumbprint)")
        #expect(Array(result.output.utf8) == json)
        if compressed { #expect(try JWS.verify(token).payload.count * 2 < json.count) }
        let verify = try run([Programs.tenken, "verify", scratch.path + "/report.jws"])
        #expect(verify.status == 0 && verify.output.contains("verdict: non-compliant"), "\(verify.output)")
    }

    @Test("a compressed payload inflates only within the limit, and only a known payload type is read")
    func compressedPayloadLimits() throws {
        let scratch = try ScratchTree()
        let key = try MachineKey.loadOrCreate(stateDirectory: scratch.path)
        let json = Array(String(repeating: #"{"a":"bbbbbbbbbbbbbbbb"},"#, count: 4096).utf8)
        let verified = try JWS.verify(try ReportPayload.sign(json, with: key, compressed: true))
        #expect(try ReportPayload.json(of: verified, limit: json.count) == json)
        func refusal(_ verified: JWS.Verified, limit: Int) -> ReportPayload.Unreadable? {
            do { _ = try ReportPayload.json(of: verified, limit: limit) } catch { return error }
            return nil
        }
        let tooLarge = try #require(refusal(verified, limit: json.count - 1))
        #expect(
            tooLarge.tooLarge && tooLarge.message.en.contains("inflates beyond") && tooLarge.message.ja.contains("超えます")
        )
        let damaged = try JWS.verify(
            try JWS.sign(Array(verified.payload.dropLast(3)), with: key, contentType: ReportPayload.zstdContentType))
        #expect(
            refusal(damaged, limit: 1 << 20).map { !$0.tooLarge && $0.message.en.contains("not a valid zstd frame") }
                == true)
        let other = try JWS.verify(try JWS.sign(verified.payload, with: key, contentType: "application/gzip"))
        #expect(other.contentType == "application/gzip")
        #expect(refusal(other, limit: 1 << 20)?.message.en == "unknown payload type (cty) application/gzip")
        // RFC 7515 §4.1.10: "zstd" stands for "application/zstd"; media types ignore case.
        for type in ["zstd", "APPLICATION/Zstd"] {
            #expect(
                try ReportPayload.json(
                    of: try JWS.verify(try JWS.sign(verified.payload, with: key, contentType: type)), limit: json.count)
                    == json)
        }
        #expect(!ReportPayload.isCompressed(contentType: "text/zstd") && !ReportPayload.isCompressed(contentType: nil))
    }

    @Test("tenken check --sign --out, then tenken verify: 0 valid, 1 tampered, 2 unreadable")
    func commandLine() throws {
        let scratch = try ScratchTree()
        let binary = Programs.tenken
        let check = try run([
            binary, "check", "--root", Fixture.path("workstation"), "--rules", "no-p2p-software",
            "--sign", "--out", scratch.path + "/report.jws", "--state-dir", scratch.path + "/state",
        ])
        #expect(check.status == 1)
        #expect(check.output.contains("Verdict: NON-COMPLIANT"))
        let valid = try run([binary, "verify", scratch.path + "/report.jws"])
        #expect(valid.status == 0)
        #expect(valid.output.contains("verdict: non-compliant"))
        var token = String(decoding: try scratch.read("report.jws"), as: UTF8.self)
        token = String(token.dropLast(3)) + (token.dropLast(2).last == "A" ? "B" : "A") + "\n"
        try scratch.write("tampered.jws", token)
        #expect(try run([binary, "verify", scratch.path + "/tampered.jws"]).status == 1)
        #expect(try run([binary, "verify", scratch.path + "/missing.jws"]).status == 2)
    }
}
