import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VoiceFlowCommon

/// Serves the browser client: `/assets/*` as built (content-hashed names, cached for a year), and
/// the client's routes (`/`, `/rooms/:id`, `/join/:code`) with `index.html`, never cached. Files
/// go out gzipped to clients that accept it; a matching `If-None-Match` answers 304.
struct SiteController: Sendable {
    let site: SiteCache

    /// The policy of the client's pages: its own scripts, styles and connections only (no inline
    /// code); images and media also from `blob:` (previews of uploads fetched with the token).
    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "media-src 'self' blob:",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        router.get("assets/**") { request, context in try asset(request, context) }
        router.get("/") { request, _ in try page(request) }
        router.get("rooms/**") { request, _ in try page(request) }
        router.get("join/**") { request, _ in try page(request) }
    }

    private func asset(_ request: Request, _ context: VoiceFlowRequestContext) throws -> Response {
        let path = "assets/" + context.parameters.getCatchAll().joined(separator: "/")
        guard let site = site.current() else { throw Self.notBuilt }
        guard let file = site.files[path] else { throw APIError.notFound("No such file") }
        return Self.response(file, for: request, cacheControl: "public, max-age=31536000, immutable")
    }

    private func page(_ request: Request) throws -> Response {
        guard let index = site.current()?.index else { throw Self.notBuilt }
        return Self.response(index, for: request, cacheControl: "no-cache")
    }

    static let notBuilt = APIError(
        status: .serviceUnavailable, code: .serviceUnavailable, message: "The web client is not built (run web/build.sh)")

    static func response(_ file: StaticSite.File, for request: Request, cacheControl: String) -> Response {
        var headers: HTTPFields = [
            .contentType: file.contentType, .cacheControl: cacheControl, .eTag: file.entityTag, .vary: "Accept-Encoding",
        ]
        if let tags = request.headers[.ifNoneMatch], tags.split(separator: ",").contains(where: {
            $0.trimmingCharacters(in: .whitespaces) == file.entityTag || $0.trimmingCharacters(in: .whitespaces) == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        let acceptsGzip = request.headers[values: .acceptEncoding].contains { value in
            value.split(separator: ",").contains { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "gzip" }
        }
        if acceptsGzip, let gzip = file.gzip {
            headers[.contentEncoding] = "gzip"
            headers[.contentLength] = String(gzip.readableBytes)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: gzip))
        }
        headers[.contentLength] = String(file.body.readableBytes)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
