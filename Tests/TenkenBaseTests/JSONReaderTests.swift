import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenCollector
@testable import TenkenScan

/// The collector's streaming JSON reader, with Python's json module as the oracle for what is
/// JSON, and Foundation's JSONDecoder as the oracle for what a report says.
@Suite("JSON reader")
struct JSONReaderTests {
    /// Reads a whole value into a comparable form (what the reader's callers would see).
    indirect enum Value: Equatable {
        case object([(String, Value)])
        case array([Value])
        case string(String)
        case number(String)
        case bool(Bool)
        case null

        static func == (lhs: Value, rhs: Value) -> Bool {
            switch (lhs, rhs) {
            case (.object(let a), .object(let b)):
                return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            case (.array(let a), .array(let b)): return a == b
            case (.string(let a), .string(let b)): return Array(a.unicodeScalars) == Array(b.unicodeScalars)
            case (.number(let a), .number(let b)): return a == b
            case (.bool(let a), .bool(let b)): return a == b
            case (.null, .null): return true
            default: return false
            }
        }

        static func read(_ reader: inout JSONReader) throws -> Value {
            switch try reader.kind() {
            case .object:
                var members: [(String, Value)] = []
                try reader.object { reader, key in members.append((key, try read(&reader))) }
                return .object(members)
            case .array:
                var elements: [Value] = []
                try reader.array { elements.append(try read(&$0)) }
                return .array(elements)
            case .string: return .string(try reader.string())
            case .number: return .number(try reader.number())
            case .bool: return .bool(try reader.bool())
            case .null:
                _ = try reader.null()
                return .null
            }
        }
    }

    static func parse(_ text: String) throws -> Value { try parse(Array(text.utf8)) }

    static func parse(_ bytes: [UInt8]) throws -> Value {
        var reader = JSONReader(bytes)
        let value = try Value.read(&reader)
        try reader.end()
        return value
    }

    /// Skipping checks as much as reading does.
    static func skips(_ bytes: [UInt8]) -> Bool {
        var reader = JSONReader(bytes)
        do {
            try reader.skipValue()
            try reader.end()
            return true
        } catch {
            return false
        }
    }

    @Test("values, escapes and surrogate pairs")
    func values() throws {
        #expect(
            try Self.parse(#" {"a" : [1, -0.5e+3, true, false, null, "x"] , "b":{}} "#)
                == .object([
                    ("a", .array([.number("1"), .number("-0.5e+3"), .bool(true), .bool(false), .null, .string("x")])),
                    ("b", .object([])),
                ]))
        #expect(try Self.parse(#""\"\\\/\b\f\n\r\t\u00e9\u70b9\ud83d\ude00""#) == .string("\"\\/\u{8}\u{c}\n\r\té点😀"))
        #expect(try Self.parse("\"点検\"") == .string("点検"))
        #expect(try Self.parse("[]") == .array([]))
        var reader = JSONReader(Array("9007199254740993".utf8))
        #expect(try reader.integer() == 9_007_199_254_740_993)
    }

    @Test(
        "malformed input is refused with where it went wrong",
        arguments: [
            "", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "1.", ".5", "1e", "-", "+1", "tru",
            "nul",
            "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\tb\"", "[1] [2]",
            "NaN",
            "Infinity", "'a'", "[1]x", "{\"a\":1}}", "/* */1",
        ])
    func malformed(_ text: String) {
        #expect(throws: (any Error).self) { try Self.parse(text) }
        #expect(!Self.skips(Array(text.utf8)))
    }

    @Test(
        "bytes that are not UTF-8 are refused, also where they would be skipped",
        arguments: [
            [0xFF], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80],
            [0xE7, 0x82], [0xF0, 0x9F, 0x98], [0x80], [0xE7, 0x82, 0xB9, 0xE6],
        ] as [[UInt8]])
    func notUTF8(_ damage: [UInt8]) {
        // In a long string too, where plain text is passed eight bytes at a time.
        for prefix in ["", "abcdefghijklmnopq", "点検"] {
            let string = [0x22] + Array(prefix.utf8) + damage + [0x22]
            #expect(throws: JSONReader.Malformed.self) { try Self.parse(string) }
            #expect(!Self.skips(Array(#"{"evidence":"#.utf8) + string + Array("}".utf8)))
        }
        #expect(!Self.skips([0x31] + damage))
    }

    @Test("UTF-8 up to four bytes is read as it is")
    func validUTF8() throws {
        for text in [
            "é", "点検", "😀", "\u{10FFFF}", "\u{7F}",
            String(repeating: "a", count: 9) + "検" + String(repeating: "b", count: 17),
        ] {
            #expect(try Self.parse(Array(("\"" + text + "\"").utf8)) == .string(text))
        }
    }

    @Test("nesting deeper than the limit is refused, not a stack overflow")
    func depth() throws {
        let limit = JSONReader.maximumDepth
        #expect(Self.skips(Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8)))
        let hostile = Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        #expect(!Self.skips(hostile))
        #expect(throws: (any Error).self) { try Self.parse(hostile) }
    }

    @Test("what is JSON agrees with Python's json module on 3,000 damaged documents", Needs.pythonModule("json"))
    func agreesWithPython() throws {
        let seed = Array(
            (#"{"a":[1,-2.5e3,true,false,null],"s":"x\"\\\u00e9\ud83d\ude00","o":{"k":[],"e":{}},"n":0,"#
                + #""t":"点検😀 plain text of some length"}"#)
                .utf8)
        // The damage: a byte replaced by one of JSON's own characters, removed or doubled.
        let alphabet =
            Array(#"{}[]:,"\\/-+.0123456789eEtfnulrsaxud "#.utf8) + [
                0x09, 0x0A, 0x00, 0x7F, 0xC3, 0xA9, 0xE7, 0x82, 0xB9, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xA0, 0xFF,
            ]
        var generator = SeededGenerator(seed: 20_261_124)
        var documents: [[UInt8]] = [seed]
        for _ in 0..<3000 {
            var document = seed
            for _ in 0...Int.random(in: 0...2, using: &generator) {
                let index = Int.random(in: 0..<document.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: document[index] = alphabet.randomElement(using: &generator)!
                case 1: document.remove(at: index)
                default: document.insert(document[index], at: index)
                }
            }
            documents.append(document)
        }
        let scratch = try ScratchTree()
        try scratch.write(
            "documents",
            documents.map { Array($0.map { String(format: "%02x", $0) }.joined().utf8) + [0x0A] }.reduce([], +))
        // Strict UTF-8, no NaN/Infinity, no lone surrogates: RFC 8259 as the reader reads it.
        let script = """
            import json, sys
            def reject(_): raise ValueError("constant")
            def valid(value):
                if isinstance(value, str): value.encode("utf-8"); return True
                if isinstance(value, dict): return all(valid(k) and valid(v) for k, v in value.items())
                if isinstance(value, list): return all(valid(v) for v in value)
                return True
            for line in open(sys.argv[1]):
                try:
                    text = bytes.fromhex(line.strip()).decode("utf-8")
                    print(1 if valid(json.loads(text, parse_constant=reject)) else 0)
                except (ValueError, UnicodeError, RecursionError):
                    print(0)
            """
        try scratch.write("oracle.py", script)
        let result = try run(["/usr/bin/env", "python3", scratch.path + "/oracle.py", scratch.path + "/documents"])
        #expect(result.status == 0, "\(result.error)")
        let verdicts = result.output.split(separator: "\n").map { $0 == "1" }
        #expect(verdicts.count == documents.count)
        var disagreements: [String] = []
        for (document, python) in zip(documents, verdicts) where Self.skips(document) != python {
            disagreements.append("\(ByteText.display(document[...])): python \(python)")
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(verdicts.filter { $0 }.count > 100, "the damage should leave some documents valid")
    }

    @Test("a signed report's fields read the same as JSONDecoder reads them")
    func reportFields() throws {
        var report = Check.run(
            root: try Fixture.root("workstation"), policy: try PolicyLoader.loadDefault(), now: Fixture.now)
        report.sequence = 7
        let json = Array(try report.json(pretty: false))
        let ingested = try IngestedReport(json: json)
        let decoded = try JSONDecoder().decode(CheckReport.self, from: Data(json))
        #expect(ingested.reportId == decoded.reportID)
        #expect(ingested.sequence == 7)
        #expect(ingested.startedAt == decoded.startedAt)
        #expect(ingested.hostname == decoded.host.hostname)
        #expect(ingested.policyID == decoded.policy.id)
        #expect(ingested.verdict == decoded.verdict.rawValue)
        #expect(ingested.findings.map(\.ruleId) == decoded.findings.map(\.ruleID))
        #expect(ingested.findings.map(\.status) == decoded.findings.map(\.status.rawValue))
        #expect(ingested.findings.map(\.title) == decoded.findings.map(\.title))
        #expect(ingested.findings.map(\.clauses) == decoded.findings.map(\.clauses))
        #expect(ingested.problem == nil)
        // Pretty-printed is the same report.
        #expect(try IngestedReport(json: Array(try report.json(pretty: true))) == ingested)
    }

    @Test("a report field given twice, or missing, is refused (two readers could take different ones)")
    func duplicateFields() throws {
        var report = Check.run(
            root: try Fixture.root("workstation"),
            policy: try PolicyLoader.loadDefault().selecting(["no-p2p-software"]).get(),
            now: Fixture.now)
        report.sequence = 1
        let json = String(decoding: try report.json(pretty: false), as: UTF8.self)
        #expect(try IngestedReport(json: Array(json.utf8)).sequence == 1)
        #expect(throws: (any Error).self) {
            try IngestedReport(
                json: Array(
                    json.replacingOccurrences(of: #""verdict":"#, with: #""verdict":"compliant","verdict":"#).utf8))
        }
        #expect(throws: (any Error).self) {
            try IngestedReport(json: Array(json.replacingOccurrences(of: #""verdict":"#, with: #""verdicts":"#).utf8))
        }
        #expect(throws: (any Error).self) {
            try IngestedReport(
                json: Array(json.replacingOccurrences(of: #""ruleId":"#, with: #""ruleId":"x","ruleId":"#).utf8))
        }
        #expect(throws: (any Error).self) {
            try IngestedReport(
                json: Array(json.replacingOccurrences(of: #""sequence":"#, with: #""sequence":1.5,"s":"#).utf8))
        }
    }
}
