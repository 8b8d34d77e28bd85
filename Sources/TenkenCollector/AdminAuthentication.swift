import FoundationEssentials
import Hummingbird
import TenkenBase

/// Read access to the fleet (dashboard, API, CSV, metrics) needs an admin token from
/// `tenken-collector admin-token`, as `Authorization: Bearer TOKEN` (scripts, Prometheus) or as
/// the password of HTTP Basic authentication (a browser asks for it; any user name).
/// Each refusal is audited with the client's address and the path (never what it sent).
struct AdminAuthentication: RouterMiddleware {
    let store: any ReportStore
    let audit: AuditLog

    func handle(
        _ request: Request, context: CollectorRequestContext,
        next: (Request, CollectorRequestContext) async throws -> Response
    ) async throws -> Response {
        let token = Self.token(in: request.headers[.authorization] ?? "")
        guard let token, try await store.isAdminToken(hash: CollectorApplication.tokenHash(token)) else {
            // A browser's first request carries no credentials and is answered with the prompt.
            if request.headers[.authorization] != nil {
                audit.record(
                    AuditEvent(
                        .adminAuthenticationFailed, .warning,
                        ja: "管理トークンが正しくありません: \(context.client) \(request.uri.path)",
                        en: "wrong admin token: \(context.client) \(request.uri.path)",
                        fields: [
                            ("TENKEN_REASON", token == nil ? "unreadable" : "unknown_token"),
                            ("TENKEN_PATH", request.uri.path), ("TENKEN_REMOTE", context.client),
                        ]))
            }
            return Response(
                status: .unauthorized,
                headers: [
                    .wwwAuthenticate: #"Basic realm="tenken-collector", charset="UTF-8""#,
                    .contentType: "text/plain; charset=utf-8",
                ],
                body: ResponseBody(
                    byteBuffer: ByteBuffer(string: "admin token required (tenken-collector admin-token)\n")))
        }
        return try await next(request, context)
    }

    static func token(in header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer":
            return String(parts[1])
        case "basic":
            guard let decoded = Base64.decode(String(parts[1])), let colon = decoded.firstIndex(of: 0x3A) else {
                return nil
            }
            return String(decoding: decoded[(colon + 1)...], as: UTF8.self)
        default:
            return nil
        }
    }
}

/// Standard base64 (RFC 4648 §4), as HTTP Basic authentication sends it.
enum Base64 {
    static func decode(_ text: String) -> [UInt8]? {
        var urlSafe = text.replacing("+", with: "-").replacing("/", with: "_")
        while urlSafe.hasSuffix("=") { urlSafe.removeLast() }
        return Base64URL.decode(urlSafe)
    }
}
