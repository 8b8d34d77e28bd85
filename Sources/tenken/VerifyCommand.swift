import ArgumentParser
import Crypto
import FoundationEssentials
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// Checks a signed report: exit 0 valid, 1 invalid, 2 unreadable.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: HelpText.pick(
            ja: "tenken check --sign またはエージェント (スプール) の署名付き報告 (JWS) を検証する。終了コード 0 有効、1 無効、2 読めない。",
            en: "Verify a signed report (JWS) made by tenken check --sign or an agent (its spool). "
                + "Exit 0 valid, 1 invalid, 2 unreadable."
        )
    )

    @Argument(help: .text(ja: "署名付き報告のファイル。", en: "The signed report file."))
    var file: String

    @Option(
        name: .long,
        help: .text(
            ja: "この Ed25519 公開鍵 (base64url、JWK の x) による署名に限る。",
            en: "Require this Ed25519 public key (base64url, the JWK's x)."))
    var publicKey: String?

    @OptionGroup var messages: MessageLanguageOption

    func run() throws {
        let language = messages.language
        let ja = language == .ja
        let bytes: [UInt8]
        do { bytes = try LocalFile.read(atPath: file, limit: 64 << 20) } catch {
            throw CommandFailure(message: error.message(in: language))
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var expected: Curve25519.Signing.PublicKey?
        if let publicKey {
            guard let raw = Base64URL.decode(publicKey) else {
                throw CommandFailure(
                    message: ja ? "--public-key が Ed25519 公開鍵ではありません" : "--public-key is not an Ed25519 public key")
            }
            do { expected = try StrictEd25519.publicKey(raw) } catch {
                throw CommandFailure(
                    message: ja
                        ? "--public-key は受け付けられません (小位数の点または非正規の符号化): \(error.reason)"
                        : "--public-key is refused: \(error.reason)")
            }
        }
        do {
            let verified = try JWS.verify(text, expected: expected)
            var lines = [ja ? "署名は有効です (鍵 \(verified.keyID))" : "valid signature (key \(verified.keyID))"]
            let json: [UInt8]?
            do { json = try ReportPayload.json(of: verified, limit: ReportPayload.largestReport) } catch {
                json = nil
                lines.append(ja ? "報告を読めません: " + error.message.ja : "the report cannot be read: " + error.message.en)
            }
            if let report = json.flatMap({ try? JSONDecoder().decode(CheckReport.self, from: Data($0)) }) {
                lines.append(
                    (ja ? "ホスト: " : "host: ") + "\(report.host.hostname) (machine-id \(report.host.machineID))")
                lines.append((ja ? "判定: " : "verdict: ") + report.verdict.rawValue + "  " + report.startedAt)
            }
            // The report's texts are the signing machine's words: escaped before they reach a terminal.
            FileDescriptorOutput.standardOutput.write(lines.map(TerminalText.escaped).joined(separator: "\n") + "\n")
        } catch {
            FileDescriptorOutput.standardError.write(
                (ja ? "署名が無効です: " : "invalid: ") + TerminalText.escaped(error.reason) + "\n")
            throw ExitCode(1)
        }
    }
}
