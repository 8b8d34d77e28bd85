import Prometheus

/// Prometheus metrics (GET /metrics, admin token): reports received by outcome, ingest time,
/// and the fleet's state as of the scrape.
public final class CollectorMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let received: [String: Counter]
    private let enrollments: Counter
    private let auditDropped: Counter
    private let auditSuppressed: Counter
    private let ingestTime: DurationHistogram
    private let fleet: [String: Gauge]

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        let outcomes = ["stored", "duplicate"] + Ingest.Refusal.Reason.allCases.map(\.rawValue)
        received = Dictionary(
            uniqueKeysWithValues: outcomes.map { outcome in
                (
                    outcome,
                    registry.makeCounter(
                        name: "tenken_reports_received_total", labels: [("outcome", outcome)],
                        help: "Signed reports received, by what the collector did with them.")
                )
            })
        enrollments = registry.makeCounter(
            name: "tenken_enrollments_total", help: "Machines enrolled with a one-time token.")
        auditDropped = registry.makeCounter(
            name: "tenken_audit_events_dropped_total", help: "Audit events journald had no room for.")
        auditSuppressed = registry.makeCounter(
            name: "tenken_audit_refusals_suppressed_total",
            help: "Refusals left out of the audit log: more than 30 a minute from one address.")
        ingestTime = registry.makeDurationHistogram(
            name: "tenken_ingest_duration_seconds",
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
            ],
            help: "Time to verify and store one report.")
        let states = ["compliant", "non-compliant", "incomplete", "silent", "never-reported"]
        fleet = Dictionary(
            uniqueKeysWithValues: states.map { state in
                (
                    state,
                    registry.makeGauge(
                        name: "tenken_machines", labels: [("state", state)],
                        help:
                            "Enrolled machines by their latest verdict; silent counts machines not heard from in time.")
                )
            })
    }

    func received(_ outcome: String, after duration: Duration) {
        received[outcome]?.increment()
        ingestTime.record(duration)
    }

    func enrolled() { enrollments.increment() }

    func droppedAuditEvent() { auditDropped.increment() }

    func suppressedAuditEvent() { auditSuppressed.increment() }

    /// The text exposition format, with the fleet gauges set from `counts`.
    func exposition(fleet counts: FleetSummary.Counts) -> String {
        fleet["compliant"]?.set(to: Double(counts.compliant))
        fleet["non-compliant"]?.set(to: Double(counts.nonCompliant))
        fleet["incomplete"]?.set(to: Double(counts.incomplete))
        fleet["silent"]?.set(to: Double(counts.silent))
        fleet["never-reported"]?.set(to: Double(counts.neverReported))
        return registry.emitToString()
    }
}
