import HTTPTypes
import Hummingbird

/// Answers 405 `METHOD_NOT_ALLOWED` with an `Allow` header when a request's path is a route of the
/// router but its method is not, instead of the router's 404.
///
/// The router sends only requests it has no endpoint for through middleware added after its
/// routes, so this runs for those alone: add it last, with ``Router/answeringMethodNotAllowed()``.
///
/// ```swift
/// UserController(...).addRoutes(to: router)
/// router.answeringMethodNotAllowed()
/// ```
public struct MethodNotAllowedMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext

    /// A route's path, one pattern per segment: nil matches any segment, `**` any rest.
    private struct Template: Sendable {
        var segments: [String?]
        var matchesRest: Bool
        var methods: Set<String>
    }

    private let templates: [Template]

    /// Creates the middleware for these routes (`router.routes` once every route is added).
    public init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path.description, default: []].insert(route.method.rawValue) }
        self.templates = byPath.map { path, methods in
            var segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let matchesRest = segments.last == "**"
            if matchesRest { segments.removeLast() }
            return Template(
                segments: segments.map { segment in
                    segment.hasPrefix(":") || segment.hasPrefix("{") || segment == "*" ? nil : segment
                },
                matchesRest: matchesRest, methods: methods)
        }
    }

    /// The methods the router has for `path`; empty when it has no route there.
    ///
    /// As in the router, a literal segment wins over a parameter: `/users/me` is its own resource,
    /// not `/users/:id`, so the most specific route that matches decides.
    func allowedMethods(for path: String) -> Set<String> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var best: (literals: [Bool], methods: Set<String>)?
        for template in templates {
            guard template.matchesRest ? segments.count >= template.segments.count : segments.count == template.segments.count
            else { continue }
            let matches = zip(template.segments, segments).allSatisfy { pattern, segment in pattern.map { $0 == segment } ?? true }
            guard matches else { continue }
            let literals = template.segments.map { $0 != nil } + [!template.matchesRest]
            if let current = best, !Self.isMoreSpecific(literals, than: current.literals) {
                if literals == current.literals { best?.methods.formUnion(template.methods) }
                continue
            }
            best = (literals, template.methods)
        }
        return best?.methods ?? []
    }

    /// Whether a route with literal segments at `candidate` beats one with them at `other`: the
    /// first position where they differ has a literal in `candidate`.
    private static func isMoreSpecific(_ candidate: [Bool], than other: [Bool]) -> Bool {
        for (mine, theirs) in zip(candidate, other) where mine != theirs { return mine }
        return candidate.count > other.count
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let allowed = allowedMethods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        var headers = HTTPFields()
        headers[.allow] = allowed.sorted().joined(separator: ", ")
        throw APIError(
            status: .methodNotAllowed, code: .methodNotAllowed,
            message: "\(request.method.rawValue) is not allowed here", headers: headers)
    }
}

extension Router where Context == VoiceFlowRequestContext {
    /// Answers 405 with `Allow` for a known path asked with a method it does not have; call it after
    /// the last route is added.
    @discardableResult
    public func answeringMethodNotAllowed() -> Self {
        add(middleware: MethodNotAllowedMiddleware(routes: routes))
    }
}
