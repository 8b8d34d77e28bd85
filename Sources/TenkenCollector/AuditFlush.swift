import ServiceLifecycle

/// Beside the server: every 10 s, the summaries of throttled audit windows that ended while
/// nothing more was refused (`AuditLog.flushSuppressed`), so a flood that stops is still said.
struct AuditFlush: Service {
    let audit: AuditLog

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .seconds(10)) })) != nil else {
                break
            }
            audit.flushSuppressed()
        }
        audit.flushSuppressed()
    }
}
