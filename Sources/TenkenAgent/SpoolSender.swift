import FoundationEssentials
import TenkenBase
import TenkenScan

/// Sends the spool to the collector in sequence order. A report leaves the spool only when
/// the collector acknowledged its id (stored now or before); one refused for good is set aside
/// with the reason; on anything else the sender stops and the report is tried again later, so
/// a report is never skipped and never lost.
public struct SpoolSender: Sendable {
    public let spool: Spool
    public let client: CollectorClient
    public let log: AgentLog

    public init(spool: Spool, client: CollectorClient, log: AgentLog) {
        self.spool = spool
        self.client = client
        self.log = log
    }

    /// How far one drain got: everything sent, or stopped at a report the collector could not take yet.
    public enum Result: Sendable, Equatable {
        /// The spool is empty (or another sender holds it); `sent` reports were acknowledged.
        case drained(sent: Int)
        /// The collector could not take the next report now; `after`: not before then (it said so).
        case retryLater(sent: Int, reason: String, after: Duration? = nil)
    }

    public func drain() async -> Result {
        if let problem = spool.problem() {
            // Not "another sender": say what is wrong with the spool and how to fix it.
            log(.error, ja: problem.message(in: .ja), en: problem.message(in: .en))
            return .retryLater(sent: 0, reason: problem.message(in: .en))
        }
        return await spool.whileSending { () async -> Result in
            var sent = 0
            // Reports spooled while sending are picked up by listing again until none are left.
            while true {
                let (entries, rejected) = spool.pending()
                for message in rejected { log(.warning, ja: "署名された報告ではないため退避しました: \(message)", en: message) }
                if entries.isEmpty { return .drained(sent: sent) }
                for entry in entries {
                    let reportID = Self.reportID(of: entry)
                    switch await client.submit(entry.token, reportID: reportID) {
                    case .acknowledged:
                        do { try spool.acknowledge(entry) } catch {
                            // Sent again later, acknowledged as a duplicate: nothing lost, nothing doubled.
                            return .retryLater(sent: sent, reason: "\(error)")
                        }
                        sent += 1
                    case .refused(let status, let message):
                        guard let moved = spool.setAside(entry, reason: "HTTP \(status): \(message)") else {
                            // It must not be sent again at once, nor block the reports behind it silently.
                            return .retryLater(
                                sent: sent,
                                reason: "refused (HTTP \(status)) and cannot be moved to rejected/: \(entry.name)")
                        }
                        log(
                            .error, ja: "収集サーバーが報告を受け付けませんでした (HTTP \(status): \(message))。\(moved)",
                            en: "the collector refused a report (HTTP \(status): \(message)); \(moved)")
                    case .retry(let reason, let after):
                        return .retryLater(sent: sent, reason: reason, after: after)
                    case .datedAhead(let message):
                        // Made while this clock ran ahead and since set right: this clock now
                        // agrees with the collector, and the report would wait for its date
                        // (maybe months) in front of all the others. Otherwise a clock is still
                        // wrong: wait for it to be fixed.
                        guard Self.madeUnderAClockSinceCorrected(entry) else {
                            return .retryLater(sent: sent, reason: message)
                        }
                        guard let moved = spool.setAside(entry, reason: "HTTP 422: \(message)") else {
                            return .retryLater(
                                sent: sent, reason: "dated ahead and cannot be moved to rejected/: \(entry.name)")
                        }
                        log(
                            .error, ja: "時計が進んでいた間に作られた報告を退避しました: \(moved)",
                            en: "a report made while the clock ran ahead was set aside: \(moved)")
                    }
                }
            }
        } ?? .retryLater(sent: 0, reason: "another tenken agent is sending this spool")
    }

    static func madeUnderAClockSinceCorrected(_ entry: Spool.Entry, now: Int = Timestamp.seconds()) -> Bool {
        struct Dated: Decodable { let startedAt: String }
        guard let verified = try? JWS.verify(entry.token),
            let payload = try? ReportPayload.json(of: verified, limit: ReportPayload.largestReport),
            let dated = try? JSONDecoder().decode(Dated.self, from: Data(payload)),
            let started = Timestamp.parse(dated.startedAt)
        else { return false }
        return started > now + 300
    }

    /// "<sequence>-<report id>.jws"
    static func reportID(of entry: Spool.Entry) -> String {
        String(entry.name.drop { $0 != "-" }.dropFirst().dropLast(4))
    }
}
