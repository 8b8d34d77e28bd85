import Hummingbird
import TenkenBase

/// The fleet as officers and clients see it, behind the admin token: / (dashboard),
/// /api/v1/fleet (JSON, ?format=csv), /api/v1/contracts/:id, /api/v1/machines/:key/reports,
/// /api/v1/reports/:id (the signed report itself, to verify again).
struct FleetController {
    let store: any ReportStore
    let silentAfterHours: Int
    let contracts: ContractIndex

    func fleet() async throws -> FleetSummary {
        FleetSummary(
            try await store.fleet(), now: Timestamp.seconds(), silentAfterHours: silentAfterHours,
            contracts: contracts)
    }

    func addRoutes(to admin: RouterGroup<CollectorRequestContext>) {
        admin.get("/") { request, _ -> Response in
            Answer.html(DashboardPage.render(try await fleet(), language: Answer.language(of: request)))
        }
        admin.get("api/v1/fleet") { request, _ -> Response in
            let summary = try await fleet()
            if request.uri.queryParameters.get("format") == "csv" {
                return Answer.csv(
                    FleetCSV.fleet(summary, language: Answer.language(of: request)), name: "tenken-fleet.csv")
            }
            return try Answer.encoded(summary)
        }
        admin.get("api/v1/contracts/:id") { request, context -> Response in
            let summary = try await fleet()
            guard let id = context.parameters.get("id"), let contract = summary.contracts.first(where: { $0.id == id })
            else {
                throw HTTPError(
                    .notFound,
                    message: "no such contract; known: \(contracts.contracts.map(\.id).joined(separator: ", "))")
            }
            if request.uri.queryParameters.get("format") == "csv" {
                return Answer.csv(
                    FleetCSV.contract(contract, summary: summary, language: Answer.language(of: request)),
                    name: "tenken-contract-\(contract.id).csv")
            }
            return try Answer.encoded(contract)
        }
        admin.get("api/v1/machines/:key/reports") { _, context -> Response in
            try Answer.encoded(try await store.reportHeaders(keyID: context.parameters.get("key") ?? ""))
        }
        admin.get("api/v1/reports/:id") { _, context -> Response in
            guard let report = try await store.report(id: context.parameters.get("id") ?? "") else {
                throw HTTPError(.notFound, message: "no such report")
            }
            guard !report.token.isEmpty else {
                throw HTTPError(.internalServerError, message: "the stored report is damaged")
            }
            return Answer.text(report.token + "\n", type: "application/jose")
        }
    }
}
