import Foundation
import TenkenTestSupport
import Testing

/// Every public type and every protocol says what it is for: the reader of a module's interface
/// should not have to open its implementation.
@Suite("documentation")
struct DocumentationTests {
    @Test("every public type and every protocol in Sources has a doc comment")
    func publicTypesDocumented() throws {
        let sources = LayeringTests.sources
        let declaration =
            #/^\s*(?:(public|package|open)\s+)?(?:final\s+)?(struct|enum|class|protocol|actor|typealias)\s+\w/#
        var undocumented: [String] = []
        let files = FileManager.default.enumerator(atPath: sources)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") {
            let lines = try String(contentsOfFile: sources + "/" + file, encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() {
                guard let match = try declaration.prefixMatch(in: line) else { continue }
                let (_, access, kind) = match.output
                guard access != nil || kind == "protocol" else { continue }
                var above = number - 1
                while above >= 0 && lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("@") { above -= 1 }
                if above < 0 || !lines[above].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                    undocumented.append("\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(
            undocumented.isEmpty,
            "\(undocumented.count) undocumented:\n\(undocumented.sorted().joined(separator: "\n"))")
    }
}
