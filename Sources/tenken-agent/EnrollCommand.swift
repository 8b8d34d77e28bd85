import ArgumentParser
import FoundationEssentials
import TenkenAgent
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// Binds this machine's key to a collector with a one-time token; the agent reports there.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: HelpText.pick(
            ja: "この端末をコレクターに登録する (`tenken-collector token` の使い捨てトークンで)。",
            en: "Enroll this machine with a collector (one-time token from `tenken-collector token`).")
    )

    @Argument(
        help: .text(
            ja: "コレクターのアドレス (例: https://collector.example.jp:8443)",
            en: "The collector's address, e.g. https://collector.example.jp:8443"))
    var url: String

    @Option(
        name: .long,
        help: .text(
            ja: "使い捨ての登録トークン。- なら標準入力から読む (プロセス一覧に出さないため)。",
            en: "One-time enrollment token, or - to read it from standard input (keeps it out of the process list)."))
    var token: String

    @Option(
        name: .long,
        help: .text(
            ja: "コレクターの CA 証明書 (`tenken-collector init` の ca.pem)。既定: システムの CA。",
            en: "The collector's CA certificate (ca.pem from `tenken-collector init`). Default: the system's CAs."))
    var ca: String?

    @OptionGroup var options: MachineStateOptions

    @Option(
        name: .long,
        help: .text(
            ja: "この端末を識別する machine-id とホスト名を読むルート。",
            en: "Root whose machine-id and hostname identify this machine."))
    var root: String = "/"

    func run() async throws {
        let language = options.language
        let ja = language == .ja
        var caPEM: [UInt8]?
        if let ca {
            do { caPEM = try LocalFile.read(atPath: ca, limit: 1 << 20) } catch {
                throw CommandFailure(message: error.message(in: language))
            }
        }
        let identity: HostIdentity
        let key: MachineKey
        do {
            identity = IdentitySource.identity(of: try HostRoot(root))
            key = try MachineKey.loadOrCreate(stateDirectory: options.stateDir)
        } catch {
            throw CommandFailure(message: ja ? "登録できません: \(error)" : "cannot enroll: \(error)")
        }
        var token = token
        if token == "-" {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CommandFailure(message: ja ? "標準入力にトークンがありません" : "no token on standard input")
            }
            token = String(line.filter { !$0.isWhitespace })
        }
        let client: CollectorClient
        do { client = try CollectorClient(baseURL: url, caFile: ca) } catch {
            throw CommandFailure(message: error.text[language])
        }
        let enrolled: CollectorClient.Enrolled
        do {
            enrolled = try await client.enroll(token: token, key: key, identity: identity)
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw CommandFailure(message: (ja ? "登録できません: " : "cannot enroll: ") + error.text[language])
        }
        let keyID = enrolled.keyId
        do {
            // A new key for a machine the collector knows: its reports go on above the stored ones.
            try SequenceCounter.raise(stateDirectory: options.stateDir, above: enrolled.lastSequence ?? 0)
            try CollectorLink(url: client.baseURL, keyId: keyID, pinnedCA: caPEM != nil).save(
                stateDirectory: options.stateDir, caPEM: caPEM)
            // A key a cut-short `rotate-key` left for a collector that no longer expects it.
            try StateDirectory(options.stateDir).remove(RotateKeyCommand.nextKeyFile)
        } catch let error as SequenceCounter.Failure {
            throw CommandFailure(message: error.message)
        } catch let error as HostReadError {
            throw CommandFailure(message: error.message(in: language))
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        FileDescriptorOutput.standardOutput.write(
            ja ? "登録しました: \(client.baseURL) (鍵 \(keyID))\n" : "enrolled with \(client.baseURL) (key \(keyID))\n")
    }
}
