import Foundation
import TenkenTestSupport
import Testing

/// Dependencies point one way: base ← scanning ← agent, base ← collector, and each program
/// links only its layers. Read from the sources' imports, and from the built collector itself.
@Suite("layering")
struct LayeringTests {
    static let sources = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Sources").path
    /// No module links all of Foundation (ICU and its data cost every `tenken check` startup).
    static let system: Set<String> = ["FoundationEssentials", "Glibc", "Dispatch", "Synchronization"]

    /// What each module may import besides the standard library and `system`.
    static let allowed: [String: Set<String>] = [
        "TenkenBase": ["CCompression", "CSodium", "TenkenPolicies", "Crypto"],
        "TenkenScan": [
            "TenkenBase", "CCompression", "CRootedIO", "CSquashFS", "CSystemd", "CYAML", "TenkenPolicies", "Crypto",
        ],
        "TenkenAgent": [
            "TenkenBase", "TenkenScan", "CSystemd", "CProcessMemory", "AsyncHTTPClient", "NIOCore", "NIOSSL",
        ],
        "TenkenCollector": [
            "TenkenBase", "CProcessMemory", "Hummingbird", "HummingbirdCore", "HummingbirdTLS", "NIOCore", "NIOSSL",
            "NIOHTTPTypes", "X509", "SwiftASN1", "GRDB", "Prometheus", "Crypto", "ServiceLifecycle", "Logging",
        ],
        "TenkenCommandLine": ["TenkenBase", "ArgumentParser"],
        "tenken": ["TenkenBase", "TenkenScan", "TenkenCommandLine", "ArgumentParser", "Crypto"],
        "tenken-agent": ["TenkenBase", "TenkenScan", "TenkenAgent", "TenkenCommandLine", "ArgumentParser"],
        "tenken-collector": ["TenkenBase", "TenkenCollector", "TenkenCommandLine", "ArgumentParser"],
    ]

    static func imports(of module: String) throws -> [String: Set<String>] {
        let directory = sources + "/" + module
        var found: [String: Set<String>] = [:]
        let files = FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") && $0 != "public" }
                guard words.count >= 2, words[0] == "import" else { continue }
                found[String(words[1]), default: []].insert(file)
            }
        }
        return found
    }

    @Test("every module imports only the layers below it", arguments: allowed.keys.sorted())
    func importsPointDown(module: String) throws {
        let imports = try Self.imports(of: module)
        #expect(!imports.isEmpty, "no sources found for \(module) in \(Self.sources)")
        for (name, files) in imports where !Self.system.contains(name) && !Self.allowed[module]!.contains(name) {
            Issue.record("\(module) imports \(name) in \(files.sorted().joined(separator: ", "))")
        }
    }

    @Test("every module of Sources has a layer here")
    func everyModuleListed() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sources)
            .filter { !$0.hasPrefix("C") && $0 != "tenken-bench" }
        #expect(Set(modules) == Set(Self.allowed.keys))
    }

    @Test("the collector links none of the host-scanning libraries", Needs.programs("/usr/bin/readelf", "/usr/bin/nm"))
    func collectorBinary() throws {
        let needed = try run(["/usr/bin/readelf", "-d", Programs.collector])
        #expect(needed.status == 0, "\(needed.error)")
        for library in ["libsystemd", "libyaml", "libsquashfs"] {
            #expect(!needed.output.contains(library), "tenken-collector needs \(library)")
        }
        let symbols = try run(["/usr/bin/nm", "--defined-only", Programs.collector])
        #expect(symbols.status == 0)
        // The openat2 and netlink shims, and the scanning module's own symbols.
        for symbol in ["tenken_open_in_root", "tenken_socket_diag", "10TenkenScan"] {
            #expect(!symbols.output.contains(symbol), "tenken-collector contains \(symbol)")
        }
        #expect(symbols.output.contains("10TenkenBase"), "the check itself must see the base module's symbols")
    }
}
