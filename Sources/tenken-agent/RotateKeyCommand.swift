import ArgumentParser
import FoundationEssentials
import TenkenAgent
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// Gives this machine a new key, asked for with its current one (`KeyRotation`). No report is
/// numbered meanwhile (the sequence lock is held), so every later report is signed with the
/// new key; reports already spooled stay good at the collector until the first one signed
/// with the new key arrives. The new key is kept beside the current one until the collector
/// has it, so a run cut short is finished by running again.
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: HelpText.pick(
            ja: "この端末の鍵を新しくする (今の鍵で署名した要求をコレクターに送る)。",
            en: "Give this machine a new key (asked for with its current key, signed)."))

    /// The new key until the collector has it.
    static let nextKeyFile = MachineKey.fileName + ".next"

    @Option(
        name: .long,
        help: .text(
            ja: "端末の鍵・スプール・登録情報のディレクトリ (既定: /var/lib/tenken)。",
            en: "Directory of the machine key, spool and enrollment (default: /var/lib/tenken)."))
    var stateDir: String = MachineKey.defaultStateDirectory

    @Option(
        name: .long,
        help: .text(
            ja: "メッセージの言語: ja または en (既定: LANG から)。",
            en: "Language of the messages: ja or en (default: from LANG)."))
    var lang: Language?

    func run() async throws {
        let language = lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment)
        let ja = language == .ja
        func failure(_ text: String) -> CommandFailure {
            CommandFailure(message: (ja ? "鍵を更新できません: " : "cannot rotate the key: ") + text)
        }
        let link: CollectorLink
        do { link = try CollectorLink.load(stateDirectory: stateDir) } catch { throw failure(error.message) }
        let client: CollectorClient
        do { client = try link.client(stateDirectory: stateDir) } catch { throw failure(error.text[language]) }
        let keyID: String
        do {
            keyID = try await SequenceCounter.holding(stateDirectory: stateDir) { () async throws -> String in
                let state = try StateDirectory(stateDir)
                let current = try MachineKey.loadOrCreate(stateDirectory: stateDir)
                // Made by an earlier run cut short, or now (written before it is used).
                let next = try MachineKey.loadOrCreate(stateDirectory: stateDir, file: Self.nextKeyFile)
                let keyID = MachineKey.thumbprint(next.publicKey)
                // A run cut short after the key was replaced has only the link left to write.
                if MachineKey.thumbprint(current.publicKey) != keyID {
                    let request = try KeyRotation.request(current: current, next: next, issuedAt: Timestamp.seconds())
                    let answered: String
                    do { answered = try await client.rotate(request) } catch let error as CollectorClient.Failure {
                        throw failure(error.text[language])
                    }
                    guard answered == keyID else {
                        throw failure(ja ? "コレクターの応答が新しい鍵を示していません" : "the collector answered with another key")
                    }
                    // The collector has the new key: it becomes the machine's, then the link names it.
                    try next.save(in: state)
                }
                try CollectorLink(url: link.url, keyId: keyID, pinnedCA: link.pinnedCA).save(
                    stateDirectory: stateDir, caPEM: nil)
                try state.remove(Self.nextKeyFile)
                return keyID
            }
            await client.shutdown()
        } catch let error as CommandFailure {
            await client.shutdown()
            throw error
        } catch let error as HostReadError {
            await client.shutdown()
            throw failure(error.message(in: language))
        } catch {
            await client.shutdown()
            throw failure("\(error)")
        }
        FileDescriptorOutput.standardOutput.write(ja ? "鍵を更新しました: \(keyID)\n" : "key rotated: \(keyID)\n")
    }
}
