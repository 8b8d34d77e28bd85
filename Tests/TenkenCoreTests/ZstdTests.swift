import Foundation
import Testing
@testable import TenkenCore

@Suite("zstd frames")
struct ZstdTests {
    /// Frames made by the zstd tool itself: with the content size in the header (read in one
    /// step) and without it (streamed), one frame and two.
    @Test("frames of the zstd tool inflate to its input, within the limit only")
    func agreesWithTheTool() throws {
        let scratch = try ScratchTree()
        var generator = SeededGenerator(seed: 7)
        let words = ["dpkg", "pass", "fail", "教育委員会", "\"", "{", "}", "0", "1234"]
        let text = Array((0..<30_000).map { _ in words[Int.random(in: 0..<words.count, using: &generator)] }.joined(separator: " ").utf8)
        try scratch.write("text", text)
        for (name, options) in [("sized", [String]()), ("streamed", ["--no-content-size"])] {
            let result = try run(["/usr/bin/zstd", "-q", "-f"] + options + [scratch.path + "/text", "-o", scratch.path + "/" + name])
            #expect(result.status == 0, "\(result.error)")
            let frame = try scratch.read(name)
            #expect(try Zstd.inflate(frame, limit: text.count).get() == text, "\(name)")
            #expect(throws: Zstd.Failure.tooLarge) { try Zstd.inflate(frame, limit: text.count - 1).get() }
            #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(Array(frame.dropLast(4)), limit: 1 << 20).get() }
            #expect(throws: Zstd.Failure.self) { try Zstd.inflate(frame + frame, limit: text.count * 2 - 1).get() }
            #expect(try Zstd.inflate(frame + frame, limit: text.count * 2).get() == text + text, "\(name), two frames")
        }
        let ours = try #require(Zstd.compress(text, level: 1))
        try scratch.write("ours.zst", ours)
        let back = try run(["/usr/bin/zstd", "-q", "-d", "-f", scratch.path + "/ours.zst", "-o", scratch.path + "/back"])
        #expect(back.status == 0, "\(back.error)")
        #expect(try scratch.read("back") == text)
        #expect(try Zstd.inflate(try #require(Zstd.compress([], level: 1)), limit: 0).get() == [])
        #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate([], limit: 10).get() }
        #expect(throws: Zstd.Failure.damaged) { try Zstd.inflate(Array("not zstd at all".utf8), limit: 100).get() }
    }
}
