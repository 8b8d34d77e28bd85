import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("policy and catalog")
struct PolicyLoaderTests {
    private func load(_ yaml: String, catalog: [String: String] = [:]) throws -> Policy {
        let scratch = try ScratchTree()
        try scratch.write("policy.yaml", yaml)
        for (name, text) in catalog { try scratch.write(name, text) }
        return try PolicyLoader.load(file: scratch.path + "/policy.yaml")
    }

    private func error(_ yaml: String, catalog: [String: String] = [:]) -> String {
        do {
            _ = try load(yaml, catalog: catalog)
            return ""
        } catch let error as PolicyError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    private let minimal = """
        id: test
        version: 1
        title: {ja: テスト, en: Test}
        catalog: [catalog/p2p.yaml]
        rules:
          - id: p2p
            kind: forbidden-software
            categories: [p2p]
            severity: critical
            title: {ja: P2P なし, en: No P2P}
            remediation: {ja: 削除, en: Remove}
            clauses: ["001 第6条7"]
        """

    @Test("the embedded default policy loads and every rule cites contract clauses")
    func defaultPolicy() throws {
        let policy = try PolicyLoader.loadDefault()
        #expect(policy.id == "tenken-default")
        #expect(
            policy.rules.map(\.id) == [
                "no-p2p-software", "no-personal-cloud-sync", "no-remote-access-software", "security-updates-applied",
                "os-release-supported", "other-updates-applied", "package-lists-fresh", "reboot-not-pending",
                "automatic-security-updates",
                "antivirus-installed", "antivirus-definitions-current", "on-access-scanning", "machine-registered",
                "media-registered", "mobile-devices", "registered-media-encrypted", "disk-encryption",
                "authentication-required",
                "screen-lock", "ssh-login-hardened", "logs-kept-one-year", "firewall-enabled", "privileged-users",
            ])
        #expect(policy.digest.hasPrefix("sha256:") && policy.digest.count == 71)
        for rule in policy.rules {
            #expect(!rule.clauses.isEmpty)
            for clause in rule.clauses {
                #expect(clause.range(of: #"^00[0-4] \S+"#, options: .regularExpression) != nil, "\(clause)")
            }
            #expect(!rule.title.ja.isEmpty && !rule.title.en.isEmpty)
            #expect(!rule.remediation.ja.isEmpty && !rule.remediation.en.isEmpty)
        }
        let p2p = policy.catalog.entries(in: ["p2p"])
        for name in ["Winny.exe", "Share.exe", "PerfectDark.exe"] {
            #expect(p2p.contains { $0.wine.contains(name) })
        }
        #expect(policy.rules.first { $0.id == "no-p2p-software" }?.action == .fail)
    }

    @Test("a check of some rules names another digest than the policy's; all of them, the same one")
    func subsetDigest() throws {
        let policy = try PolicyLoader.loadDefault()
        let all = try policy.selecting(policy.rules.map(\.id)).get()
        #expect(all.digest == policy.digest)
        // What the collector expects of a machine enrolled without another policy.
        #expect(PolicyDigest.embeddedDefault == policy.digest)
        // And the rules whose findings make a report of it a full check.
        #expect(PolicyDigest.embeddedDefaultRules == policy.rules.map(\.id))
        let one = try policy.selecting(["no-p2p-software"]).get()
        let two = try policy.selecting(["no-p2p-software", "screen-lock"]).get()
        #expect(one.digest != policy.digest && two.digest != policy.digest && one.digest != two.digest)
        #expect(one.digest.hasPrefix("sha256:") && one.digest.count == policy.digest.count)
        // The order asked in does not matter: the rules keep the policy's order.
        #expect(try policy.selecting(["screen-lock", "no-p2p-software"]).get().digest == two.digest)
    }

    @Test("the embedded policy is byte-for-byte the one in Policies/")
    func embeddedMatchesFiles() throws {
        let policies = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../Policies")
            .standardized
        let fromFile = try PolicyLoader.load(file: policies.path + "/default.yaml")
        #expect(fromFile.digest == (try PolicyLoader.loadDefault().digest))
    }

    @Test("a policy's catalog names fall back to the embedded catalog; a local file wins")
    func catalogResolution() throws {
        let embedded = try load(minimal)
        #expect(embedded.catalog.entries(in: ["p2p"]).count > 10)
        let local = try load(
            minimal,
            catalog: [
                "catalog/p2p.yaml": """
                category: p2p
                title: {ja: 独自, en: Own}
                software:
                  - id: only-one
                    name: Only One
                    deb: [only-one]
                """
            ])
        #expect(local.catalog.entries(in: ["p2p"]).map(\.id) == ["only-one"])
        #expect(local.digest != embedded.digest)
    }

    @Test("mistakes are errors that name the file, line and key")
    func strictErrors() {
        #expect(
            error(minimal.replacingOccurrences(of: "categories:", with: "categores:")).contains(
                "unknown key 'categores'"))
        #expect(error(minimal.replacingOccurrences(of: "categories:", with: "categores:")).contains("line 8: rules[0]"))
        #expect(
            error(minimal.replacingOccurrences(of: "forbidden-software", with: "run-command")).contains(
                "unknown rule kind 'run-command'"))
        #expect(
            error(
                minimal.replacingOccurrences(
                    of: "    categories: [p2p]", with: "    categories: [p2p]\n    max-days: 3")
            ).contains("'max-days' is not a parameter of forbidden-software"))
        #expect(
            error(minimal.replacingOccurrences(of: "[p2p]", with: "[nothing]")).contains(
                "no catalog file has category 'nothing'"))
        #expect(error(minimal.replacingOccurrences(of: "critical", with: "urgent")).contains("'urgent' is not one of"))
        #expect(
            error(minimal.replacingOccurrences(of: "clauses: [\"001 第6条7\"]", with: "clauses: []")).contains(
                "must cite"))
        #expect(error(minimal.replacingOccurrences(of: "version: 1", with: "version: one")).contains("whole number"))
        #expect(error(String(repeating: "[", count: 100_000)).contains("nested deeper than 64"))
        #expect(
            error(minimal.replacingOccurrences(of: "title: {ja: P2P なし, en: No P2P}", with: "title: {ja: P2P なし}"))
                .contains("missing key 'en'"))
        #expect(
            error(minimal + "\n" + minimal.split(separator: "\n").suffix(7).joined(separator: "\n")).contains(
                "used twice"))
        #expect(error("id: [unclosed").contains("line"))
        #expect(error(minimal + "\nid: again").contains("duplicate key 'id'"))
        #expect(error("a: &x [1]\nb: *x").contains("not allowed"))
        #expect(error(minimal + "\n---\nid: second").contains("only one YAML document"))
        #expect(error("").contains("empty document"))
        let badPort = error(
            minimal,
            catalog: [
                "catalog/p2p.yaml":
                    "category: p2p\ntitle: {ja: a, en: b}\nsoftware:\n  - id: x\n    name: X\n    ports: [tcp/99999]\n"
            ])
        #expect(badPort.contains("tcp/99999"))
    }

    @Test("port ranges")
    func ports() throws {
        let range = try #require(PortRange("udp/6881-6889"))
        #expect(range.description == "udp/6881-6889")
        #expect(PortRange("tcp/22")?.ports == 22...22)
        #expect(PortRange("tcp/9-1") == nil)
        #expect(PortRange("sctp/1") == nil)
        #expect(PortRange("tcp/") == nil)
    }
}

@Suite("rule kinds")
struct RuleKindTests {
    @Test("kind names are unique across families, and every kind reads back under its own name")
    func everyKind() throws {
        let counted = RuleKind.families.map { $0.parametersByName.count }.reduce(0, +)
        #expect(counted == RuleKind.parameters.count, "a kind name is used by two families")
        let scratch = try ScratchTree()
        var yaml = """
            id: every-kind
            version: 1
            title: {ja: 全種類, en: Every kind}
            catalog: [catalog/p2p.yaml, catalog/antivirus.yaml]
            rules:

            """
        for name in RuleKind.parameters.keys.sorted() {
            yaml += """
                  - id: r-\(name)
                    kind: \(name)
                    severity: low
                    title: {ja: 題, en: Title}
                    remediation: {ja: 対処, en: Fix}
                    clauses: ["001 第6条7"]

                """
            if name.hasSuffix("-software") { yaml += "    categories: [p2p]\n" }
        }
        try scratch.write("policy.yaml", yaml)
        let policy = try PolicyLoader.load(file: scratch.path + "/policy.yaml")
        #expect(policy.rules.map(\.kind.name) == RuleKind.parameters.keys.sorted())
        // Every kind's sources are known to the registry and turned on by the policy's request.
        let request = policy.factRequest
        for rule in policy.rules {
            for source in rule.kind.family.sources {
                #expect(FactSourceRegistry.declaration(of: source).isRequested(by: request), "\(rule.id): \(source)")
            }
        }
    }
}
