import GRDB
import Hummingbird
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// A request the store could not write because its disk is full: 503 with Retry-After, an
/// audit entry (throttled as refusals are: every report of the fleet meets it) and a line on
/// stderr for the service's log. Nothing was acknowledged (the transaction rolled back, or its
/// WAL was not synced), so the agent keeps the report and sends it again; once space is back,
/// the next write goes through.
struct StorageFull: RouterMiddleware {
    typealias Context = CollectorRequestContext
    let audit: AuditLog
    /// Seconds the client is asked to wait.
    static let retryAfter = 60

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do { return try await next(request, context) } catch  where Self.isDiskFull(error) {
            FileDescriptorOutput.standardError.write(
                "tenken-collector: the database's disk is full; \(request.method) \(request.uri.path) answered 503 "
                    + "(\(error))\n")
            audit.record(
                AuditEvent(
                    .storageFull, .error,
                    ja: "データベースのディスクが一杯のため要求を受け付けませんでした (503): \(request.uri.path)",
                    en: "the database's disk is full: request refused with 503: \(request.uri.path)",
                    fields: [
                        ("TENKEN_REASON", "disk_full"), ("TENKEN_PATH", request.uri.path),
                        ("TENKEN_DETAIL", "\(error)"), ("TENKEN_REMOTE", context.client),
                    ]))
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: String(Self.retryAfter)],
                message: "the collector's disk is full: nothing was stored; try again later")
        }
    }

    /// SQLite's "database or disk is full", or a sync of its WAL that failed for lack of space.
    static func isDiskFull(_ error: any Error) -> Bool {
        if let database = error as? DatabaseError { return database.resultCode == .SQLITE_FULL }
        if let sync = error as? WALSync.Failed { return sync.code == ENOSPC || sync.code == EDQUOT }
        return false
    }
}
