import Crypto
import FoundationEssentials
import TenkenBase

/// What the collector did or refused, for the record: one journal entry per event, with
/// structured fields (`TENKEN_EVENT`, `TENKEN_REASON`, `TENKEN_KEY_ID`, `TENKEN_REMOTE`, ...) an
/// officer can filter on (`journalctl -t tenken-collector TENKEN_EVENT=report_refused`). Without
/// a journal (run by hand) each event is a line of JSON on stderr. Never a token: tokens are
/// named by the first 12 digits of their hash, as `tokens list` shows them.
public struct AuditLog: Sendable {
    /// journald's native socket; nil: stderr only.
    public let socket: String?
    /// The language of each entry's MESSAGE (the fields are the same in both).
    public let language: Language

    /// Where journald listens; systemd's `LogNamespace=` maps a service's namespace here too.
    public static let systemJournal = "/run/systemd/journal/socket"

    /// Where events go instead, for handler tests in this process.
    private let recorder: (@Sendable (AuditEvent) -> Void)?
    /// Told of each event journald had no room for (counted in /metrics).
    private var dropped: (@Sendable () -> Void)?
    /// Refusals from the network, limited per client address (the server's log only).
    private var throttle: AuditThrottle?
    private var suppressed: (@Sendable () -> Void)?

    public init(socket: String? = systemJournal, language: Language) {
        self.socket = socket
        self.language = language
        recorder = nil
    }

    /// This log, telling `dropped` of each event journald had no room for, and `suppressed` of
    /// each refusal `throttle` left out.
    func counting(
        dropped: @escaping @Sendable () -> Void, throttle: AuditThrottle? = nil,
        suppressed: @escaping @Sendable () -> Void = {}
    ) -> AuditLog {
        var log = self
        log.dropped = dropped
        log.throttle = throttle
        log.suppressed = suppressed
        return log
    }

    /// A log that hands each event to `recorder` and writes nothing.
    public init(recorder: @escaping @Sendable (AuditEvent) -> Void) {
        socket = nil
        language = .en
        self.recorder = recorder
    }

    public func record(_ event: AuditEvent) {
        if let throttle, event.kind.isRefusal {
            // The address without its port: one client, many connections.
            let remote = event.field("TENKEN_REMOTE") ?? "-"
            let address = String(remote.split(separator: " ").first ?? "-")
            let kind = AuditThrottle.Kind(event: event.kind, reason: event.field("TENKEN_REASON") ?? "-")
            let (log, summaries) = throttle.admit(kind, address: address, now: Timestamp.seconds())
            for summary in summaries { write(AuditEvent.suppressed(summary)) }
            guard log else {
                suppressed?()
                return
            }
        }
        write(event)
    }

    /// Writes the summaries of throttled windows that ended while nothing was refused (the
    /// collector calls it every few seconds, so a flood's summary is not held until the next one).
    public func flushSuppressed(now: Int = Timestamp.seconds()) {
        for summary in throttle?.due(now: now) ?? [] { write(AuditEvent.suppressed(summary)) }
    }

    /// Every value is escaped as a terminal shows it (`TerminalText`): a request's fields are
    /// the sender's words, and a control character in one would make journalctl show the entry
    /// as a blob, or with -a reach the reader's terminal as an escape sequence.
    private func write(_ event: AuditEvent) {
        if let recorder { return recorder(event) }
        let message = TerminalText.escaped(language == .ja ? event.ja : event.en)
        let fields = event.fields.map { ($0.0, TerminalText.escaped($0.1)) }
        if let socket {
            var entry = JournalDatagram()
            entry.append("MESSAGE", message)
            entry.append("PRIORITY", String(event.priority.rawValue))
            entry.append("SYSLOG_IDENTIFIER", "tenken-collector")
            entry.append("MESSAGE_ID", event.kind.messageID)
            entry.append("TENKEN_EVENT", event.kind.rawValue)
            for (name, value) in fields { entry.append(name, value) }
            switch entry.send(to: socket) {
            case .sent: return
            case .busy:
                // Waiting, or writing to stderr (the journal's stream under systemd), would let a
                // flood of refused requests stall the collector; journald drops at its rate limit too.
                dropped?()
                return
            case .absent: break
            }
        }
        // No journal: the event is written all the same.
        var object = ["event": event.kind.rawValue, "message": message]
        for (name, value) in fields { object[name.lowercased()] = value }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? event.kind.rawValue
        FileDescriptorOutput.standardError.write("tenken-collector audit: " + line + "\n")
    }
}

/// One audited event: its kind, how serious, a sentence in each language, and its fields.
public struct AuditEvent: Sendable {
    /// What happened; the raw value is the entry's TENKEN_EVENT.
    public enum Kind: String, Sendable, CaseIterable {
        case enrolled
        case enrollmentRefused = "enrollment_refused"
        case keyRotated = "key_rotated"
        case keyRotationRefused = "key_rotation_refused"
        case reportRefused = "report_refused"
        case adminAuthenticationFailed = "admin_authentication_failed"
        case tokenIssued = "token_issued"
        case tokenRevoked = "token_revoked"
        case machineRemoved = "machine_removed"
        case policyChanged = "policy_changed"
        case policyRegistered = "policy_registered"
        case policyRemoved = "policy_removed"
        /// What the throttle left out of one kind of refusal in a window.
        case auditSuppressed = "audit_suppressed"
        /// A request not stored because the database's disk is full (503).
        case storageFull = "storage_full"

        /// What anyone on the network can cause: throttled (`AuditThrottle`). The rest is bounded
        /// otherwise: an enrollment spends a token, a key is rotated 10 times a day at most
        /// (`MachineLimits`), administration is on the collector's host, and summaries come at
        /// most one a kind a minute.
        var isRefusal: Bool {
            switch self {
            case .enrollmentRefused, .reportRefused, .keyRotationRefused, .adminAuthenticationFailed, .storageFull:
                true
            case .enrolled, .keyRotated, .tokenIssued, .tokenRevoked, .machineRemoved, .policyChanged,
                .policyRegistered, .policyRemoved, .auditSuppressed:
                false
            }
        }

        /// journald's MESSAGE_ID: 128 bits, the same for every event of a kind, in every version.
        var messageID: String {
            ByteText.hex(SHA256.hash(data: Array(("tenken-collector audit " + rawValue).utf8)).prefix(16))
        }
    }

    /// syslog levels, as journald records them.
    public enum Priority: Int, Sendable {
        case error = 3
        case warning = 4
        case notice = 5
    }

    public let kind: Kind
    public let priority: Priority
    public let ja: String
    public let en: String
    /// Journal field names (upper case, `TENKEN_` first) and their values.
    public let fields: [(String, String)]

    public init(_ kind: Kind, _ priority: Priority, ja: String, en: String, fields: [(String, String)]) {
        self.kind = kind
        self.priority = priority
        self.ja = ja
        self.en = en
        self.fields = fields
    }

    /// The value of a field, when the event has it.
    func field(_ name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }

    /// What a throttled window left out, in one entry.
    static func suppressed(_ summary: AuditThrottle.Summary) -> AuditEvent {
        let kind = "\(summary.kind.event.rawValue) \(summary.kind.reason)"
        let samples = summary.samples.joined(separator: ", ")
        return AuditEvent(
            .auditSuppressed, .warning,
            ja: "監査ログの記録を省略しました: \(kind) を \(summary.suppressed) 件 (\(summary.buckets) 個のアドレス群から。例: \(samples))",
            en: "audit entries left out: \(summary.suppressed) × \(kind) from \(summary.buckets) address buckets "
                + "(e.g. \(samples))",
            fields: [
                ("TENKEN_SUPPRESSED_EVENT", summary.kind.event.rawValue), ("TENKEN_REASON", summary.kind.reason),
                ("TENKEN_SUPPRESSED", String(summary.suppressed)), ("TENKEN_ADDRESS_BUCKETS", String(summary.buckets)),
                ("TENKEN_SAMPLE_REMOTES", samples), ("TENKEN_SINCE", Timestamp.format(seconds: summary.since)),
            ])
    }

    /// The id `tokens list` shows for a token: the start of its hash, never the token.
    public static func tokenID(hash: String) -> String { String(hash.prefix(12)) }
}
