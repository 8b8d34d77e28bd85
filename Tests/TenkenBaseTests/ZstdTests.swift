import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("zstd frames", Needs.programs("/usr/bin/zstd"))
struct ZstdTests {
    /// Frames made by the zstd tool itself: with the content size in the header (read in one
    /// step) and without it (streamed), one frame and two.
    @Test("frames of the zstd tool inflate to its input, within the limit only")
    func agreesWithTheTool() throws {
        let scratch = try ScratchTree()
        var generator = SeededGenerator(seed: 7)
        let words = ["dpkg", "pass", "fail", "教育委員会", "\"", "{", "}", "0", "1234"]
        let text = Array(
            (0..<30_000).map { _ in words[Int.random(in: 0..<words.count, using: &generator)] }.joined(separator: " ")
                .utf8)
        try scratch.write("text", text)
        for (name, options) in [("sized", [String]()), ("streamed", ["--no-content-size"])] {
            let result = try run(
                ["/usr/bin/zstd", "-q", "-f"] + options + [scratch.path + "/text", "-o", scratch.path + "/" + name])
            #expect(result.status == 0, "\(result.error)")
            let frame = try scratch.read(name)
            #expect(try Zstd.inflate(frame, limit: text.count).get() == text, "\(name)")
            #expect(throws: Zstd.Failure.tooLarge) { try Zstd.inflate(frame, limit: text.count - 1).get() }
            #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(Array(frame.dropLast(4)), limit: 1 << 20).get() }
            #expect(throws: Zstd.Failure.tooLarge) { try Zstd.inflate(frame + frame, limit: text.count * 2 - 1).get() }
            #expect(try Zstd.inflate(frame + frame, limit: text.count * 2).get() == text + text, "\(name), two frames")
        }
        let ours = try #require(Zstd.compress(text, level: 1))
        try scratch.write("ours.zst", ours)
        let back = try run([
            "/usr/bin/zstd", "-q", "-d", "-f", scratch.path + "/ours.zst", "-o", scratch.path + "/back",
        ])
        #expect(back.status == 0, "\(back.error)")
        #expect(try scratch.read("back") == text)
        #expect(try Zstd.inflate(try #require(Zstd.compress([], level: 1)), limit: 0).get() == [])
        #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate([], limit: 10).get() }
        #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(Array("not zstd at all".utf8), limit: 100).get() }
    }

    /// A frame's header states its content size; a frame that states a wrong one, or that is of
    /// a pre-RFC 8878 format (still decoded by the library, by older code), is damaged.
    @Test("frames that misstate their size or are of a legacy format are refused")
    func misstatedAndLegacy() throws {
        let text = Array(String(repeating: "tenken 点検 ", count: 20_000).utf8)
        let frame = try #require(Zstd.compress(text, level: 1))
        // RFC 8878 §3.1.1.1: descriptor, then window and dictionary id fields, then the size.
        let descriptor = frame[4]
        let singleSegment = descriptor >> 5 & 1 == 1
        let sizeOffset = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][Int(descriptor & 3)]
        let sizeLength = descriptor >> 6 == 0 ? (singleSegment ? 1 : 0) : [1, 2, 4, 8][Int(descriptor >> 6)]
        try #require(sizeLength == 4)
        let declared = frame[sizeOffset..<sizeOffset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(declared == text.count)
        for wrong in [declared - 1, declared + 1] {
            var lying = frame
            for index in 0..<4 { lying[sizeOffset + index] = UInt8(truncatingIfNeeded: wrong >> (8 * index)) }
            #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(lying, limit: 1 << 20).get() }
        }
        for version: UInt8 in [0x1E, 0x22, 0x27] {
            let legacy = [version, 0xB5, 0x2F, 0xFD] + frame.dropFirst(4)
            #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(legacy, limit: 1 << 20).get() }
            // Streamed, second frame
            #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(frame + legacy, limit: 1 << 20).get() }
        }
    }
}
