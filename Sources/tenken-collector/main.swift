import ArgumentParser
import TenkenCommandLine
import TenkenCollector
import TenkenCore

@main
struct TenkenCollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenken-collector",
        abstract: "Receives signed tenken reports over HTTPS from enrolled machines.",
        version: TenkenVersion.current,
        subcommands: [Initialize.self, Token.self, AdminToken.self, Serve.self]
    )

    static func main() async {
        await runAsMain(name: "tenken-collector")
    }

    struct Initialize: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Create a CA and a server certificate, or use the PEM files given.")
        @Option(name: .long, help: "Directory for ca.pem, server.pem and their keys.") var dir = "/etc/tenken-collector"
        @Option(name: .long, help: "Names and IP addresses agents use to reach the collector.") var host: [String] = ["localhost", "127.0.0.1"]
        @Option(name: .long, help: "Use this server certificate (chain, PEM) instead of creating one.") var certificate: String?
        @Option(name: .long, help: "The private key (PEM) of --certificate.") var key: String?
        @Option(name: .long, help: "The CA (PEM) agents should trust for --certificate.") var ca: String?

        func run() throws {
            let files = CertificateAuthority.Files(directory: dir)
            if certificate != nil || key != nil {
                guard let certificate, let key else { throw CommandFailure(message: "--certificate and --key go together") }
                try CertificateAuthority.adopt(in: files, certificateChain: certificate, key: key, ca: ca)
                guard ca != nil else {
                    print("\(files.serverCertificate): in place; agents verify it with the system's CAs (tenken enroll without --ca)")
                    return
                }
            } else {
                try CertificateAuthority.create(in: files, hosts: host)
            }
            print("\(files.caCertificate): give this CA to agents (tenken enroll --ca)")
        }
    }

    /// Prints a new random token once; `keep` stores only its hash.
    static func issueToken(database: String, keep: (SQLiteReportStore, String) async throws -> Void) async throws {
        let token = CollectorApplication.newToken()
        try await keep(try SQLiteReportStore(path: database), CollectorApplication.tokenHash(token))
        print(token)
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "token", abstract: "Create a one-time enrollment token.")
        @Option(name: .long, help: "SQLite database.") var database = "/var/lib/tenken-collector/collector.sqlite"

        func run() async throws {
            try await issueToken(database: database) { try await $0.addEnrollmentToken(hash: $1, now: Timestamp.seconds()) }
        }
    }

    struct AdminToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "admin-token", abstract: "Create a token for the dashboard, the API, CSV and /metrics (shown once).")
        @Option(name: .long, help: "SQLite database.") var database = "/var/lib/tenken-collector/collector.sqlite"

        func run() async throws {
            try await issueToken(database: database) { try await $0.addAdminToken(hash: $1, now: Timestamp.seconds()) }
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve HTTPS (TLS 1.2+).")
        @Option(name: .long, help: "Directory written by init.") var dir = "/etc/tenken-collector"
        @Option(name: .long, help: "SQLite database.") var database = "/var/lib/tenken-collector/collector.sqlite"
        @Option(name: .long, help: "Address to listen on.") var listen = "0.0.0.0"
        @Option(name: .long, help: "Port.") var port = 8443
        @Option(name: .long, help: "Hours without a report after which a machine is shown as silent.") var silentHours = 24
        @Option(name: .long, help: "Seconds a report may be dated ahead of this clock.") var clockSkew = 300

        func run() async throws {
            let files = CertificateAuthority.Files(directory: dir)
            var configuration = CollectorApplication.Configuration(
                host: listen, port: port, certificate: files.serverCertificate, privateKey: files.serverKey)
            configuration.silentAfterHours = silentHours
            configuration.maximumClockAhead = clockSkew
            let app = try CollectorApplication.make(store: try SQLiteReportStore(path: database), configuration: configuration)
            try await app.runService()
        }
    }
}
