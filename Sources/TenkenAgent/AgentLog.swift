import TenkenBase
import TenkenScan

/// The agent's log: a line per event on stderr. Under systemd (JOURNAL_STREAM set) each line
/// starts with sd-daemon(3)'s "<N>" so the journal records its priority. Messages never carry
/// keys or tokens.
public struct AgentLog: Sendable {
    /// How serious a log line is; the raw value is the syslog level the journal records from "<N>".
    public enum Priority: Int, Sendable {
        case error = 3
        case warning = 4
        case notice = 5
        case info = 6
    }

    public let language: Language
    private let journal: Bool

    public init(language: Language, environment: [String: String]) {
        self.language = language
        journal = environment["JOURNAL_STREAM"] != nil
    }

    public func callAsFunction(_ priority: Priority, ja: String, en: String) {
        let text = language == .ja ? ja : en
        FileDescriptorOutput.standardError.write(
            (journal ? "<\(priority.rawValue)>" : "tenken agent: ") + TerminalText.escaped(text.replacingNewlines())
                + "\n")
    }
}

extension String {
    /// One event, one line: a message quoting the collector must not forge extra log lines.
    func replacingNewlines() -> String {
        String(map { $0.isNewline ? " " : $0 })
    }
}
