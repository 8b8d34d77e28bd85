import FoundationEssentials
import Hummingbird
import TenkenBase

/// Read access to the fleet (dashboard, API, CSV, metrics) needs an admin token from
/// `tenken-collector admin-token`, as `Authorization: Bearer TOKEN` (scripts, Prometheus) or as
/// the password of HTTP Basic authentication (a browser asks for it; any user name).
struct AdminAuthentication<Context: RequestContext>: RouterMiddleware {
    let store: any ReportStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let token = Self.token(in: request.headers[.authorization] ?? ""),
            try await store.isAdminToken(hash: CollectorApplication.tokenHash(token))
        else {
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
