import Hummingbird

/// Headers on every answer, errors included: the collector is HTTPS only (HSTS), nothing it
/// serves is to be sniffed into another type or framed by another site, and what an admin
/// token opens (the fleet, CSV, signed reports) is not kept by a browser or a proxy.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    /// `Cache-Control: no-store` too (the authenticated routes).
    let authenticated: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response: Response
        do { response = try await next(request, context) } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("X-Frame-Options")!] = "DENY"  // for browsers older than frame-ancestors
        if response.headers[.contentSecurityPolicy] == nil {
            response.headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        }
        if authenticated || response.status == .unauthorized { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
