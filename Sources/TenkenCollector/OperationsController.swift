import Hummingbird

/// What keeps the collector running: /healthz (open: load balancers, the agent's first test)
/// and /metrics (Prometheus, behind the admin token).
struct OperationsController {
    let metrics: CollectorMetrics
    let fleet: FleetController

    func addRoutes(to router: Router<CollectorRequestContext>, admin: RouterGroup<CollectorRequestContext>) {
        router.get("healthz") { _, _ in "ok\n" }
        admin.get("metrics") { _, _ -> Response in
            Answer.text(
                metrics.exposition(fleet: try await fleet.fleet().counts),
                type: "text/plain; version=0.0.4; charset=utf-8")
        }
    }
}
