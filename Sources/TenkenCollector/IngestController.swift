import Hummingbird
import TenkenBase

/// POST /api/v1/reports: a signed report, stored once and acknowledged by its id (`Ingest`
/// decides); every refusal is answered with its reason, counted and audited.
struct IngestController {
    let ingest: Ingest
    let maximumBodySize: Int
    let metrics: CollectorMetrics
    let audit: AuditLog

    func addRoutes(to router: Router<CollectorRequestContext>) {
        router.post("api/v1/reports") { request, context -> Response in
            let body = try await request.body.collect(upTo: maximumBodySize)
            let clock = ContinuousClock()
            let start = clock.now
            do {
                switch try await ingest.receive(Array(buffer: body), now: Timestamp.seconds()) {
                case .stored(let id):
                    metrics.received("stored", after: clock.now - start)
                    return Answer.json(.created, #"{"ack":"\#(id)"}"#)
                case .duplicate(let id):
                    metrics.received("duplicate", after: clock.now - start)
                    return Answer.json(.ok, #"{"ack":"\#(id)","duplicate":true}"#)
                }
            } catch let refusal as Ingest.Refusal {
                metrics.received(refusal.reason.rawValue, after: clock.now - start)
                audit.record(
                    AuditEvent(
                        .reportRefused, .warning,
                        ja: "報告を拒否しました (\(refusal.status)): \(refusal.message)",
                        en: "report refused (\(refusal.status)): \(refusal.message)",
                        fields: [
                            ("TENKEN_REASON", refusal.reason.rawValue), ("TENKEN_STATUS", String(refusal.status)),
                            ("TENKEN_DETAIL", refusal.message), ("TENKEN_KEY_ID", refusal.keyID ?? "-"),
                            ("TENKEN_REMOTE", context.client),
                        ]))
                throw HTTPError(
                    .init(code: refusal.status),
                    headers: refusal.retryAfter.map { [.retryAfter: String($0)] } ?? [:], message: refusal.message)
            }
        }
    }
}
