import ArgumentParser
import FoundationEssentials
import TenkenAgent
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// Gives this machine a new key, asked for with its current one (`KeyRotation`). The current
/// key stays good at the collector until the first report signed with the new one is stored,
/// so the request is sent without holding anything; only the swap of the key file is done
/// under the sequence lock, so every report numbered after it is signed with the new key and
/// the ones spooled before it go first. The new key waits beside the current one until the
/// collector has it: a run cut short is finished by running again (the same request gets the
/// same answer).
struct RotateKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: HelpText.pick(
            ja: "この端末の鍵を新しくする (今の鍵で署名した要求をコレクターに送る)。",
            en: "Give this machine a new key (asked for with its current key, signed)."))

    /// The new key until the collector has it.
    static let nextKeyFile = MachineKey.fileName + ".next"

    @OptionGroup var options: MachineStateOptions

    func run() async throws {
        let language = options.language
        let ja = language == .ja
        func failure(_ text: String) -> CommandFailure {
            CommandFailure(message: (ja ? "鍵を更新できません: " : "cannot rotate the key: ") + text)
        }
        let link: CollectorLink
        do { link = try CollectorLink.load(stateDirectory: options.stateDir) } catch { throw failure(error.message) }
        let client: CollectorClient
        do { client = try link.client(stateDirectory: options.stateDir) } catch { throw failure(error.text[language]) }
        let keyID: String
        do { keyID = try await rotate(link: link, client: client, failure: failure) } catch {
            await client.shutdown()
            switch error {
            case let error as CommandFailure: throw error
            case let error as HostReadError: throw failure(error.message(in: language))
            default: throw failure("\(error)")
            }
        }
        await client.shutdown()
        FileDescriptorOutput.standardOutput.write(ja ? "鍵を更新しました: \(keyID)\n" : "key rotated: \(keyID)\n")
    }

    /// Asks for the next key and, once the collector has it, makes it the machine's.
    private func rotate(link: CollectorLink, client: CollectorClient, failure: (String) -> CommandFailure)
        async throws -> String
    {
        let language = options.language
        let state = try StateDirectory(options.stateDir)
        let current = try MachineKey.loadOrCreate(stateDirectory: options.stateDir)
        // Made by an earlier run cut short, or now (written before it is used).
        let next = try MachineKey.loadOrCreate(stateDirectory: options.stateDir, file: Self.nextKeyFile)
        let keyID = MachineKey.thumbprint(next.publicKey)
        // A run cut short after the key was replaced has only the link left to write.
        if MachineKey.thumbprint(current.publicKey) != keyID {
            let request = try KeyRotation.request(current: current, next: next, issuedAt: Timestamp.seconds())
            switch await Self.send(request, with: client) {
            case .success(let answered) where answered == keyID: break
            case .success:
                throw failure(
                    language == .ja ? "コレクターの応答が新しい鍵を示していません" : "the collector answered with another key")
            case .failure(let error):
                // Refused for good (an unknown or retired key, a taken one): the next run starts afresh.
                if let status = error.status, [403, 409].contains(status) { try? state.remove(Self.nextKeyFile) }
                throw failure(error.text[language])
            }
        }
        try await SequenceCounter.holding(stateDirectory: options.stateDir) {
            try next.save(in: state)
            try CollectorLink(url: link.url, keyId: keyID, pinnedCA: link.pinnedCA).save(
                stateDirectory: options.stateDir, caPEM: nil)
            try state.remove(Self.nextKeyFile)
        }
        return keyID
    }

    static func send(_ request: String, with client: CollectorClient) async -> Result<String, CollectorClient.Failure> {
        do { return .success(try await client.rotate(request)) } catch { return .failure(error) }
    }
}
