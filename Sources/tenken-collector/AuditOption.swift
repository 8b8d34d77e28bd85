import ArgumentParser
import TenkenCollector
import TenkenCommandLine

/// `--journal-socket`, for every command that changes what the collector accepts: where its
/// audit log goes (`AuditLog`). Without a journal there, the events are written to stderr.
struct AuditOption: ParsableArguments {
    @Option(
        name: .long,
        help: .text(
            ja: "監査ログを送る journald のソケット (無ければ標準エラーへ)。",
            en: "journald socket the audit log goes to (stderr when there is none).")) var journalSocket =
        AuditLog.systemJournal

    var log: AuditLog { AuditLog(socket: journalSocket, language: HelpText.language) }
}
