import Foundation
import HTTPTypes
import Hummingbird

/// Resolves the client's IP for rate limits and logs.
///
/// Behind the edge proxy (`TRUST_PROXY=true`) the last `X-Forwarded-For` entry is the one the
/// proxy itself appended, so a client cannot spoof it by sending its own header.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = VoiceFlowRequestContext
    private let trustProxy: Bool

    /// Creates the middleware.
    public init(trustProxy: Bool) {
        self.trustProxy = trustProxy
    }

    public func handle(
        _ request: Request, context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        if trustProxy, let forwarded = Self.lastForwardedAddress(request.headers) {
            context.clientIP = forwarded
        }
        return try await next(request, context)
    }

    static func lastForwardedAddress(_ headers: HTTPFields) -> String? {
        let values = headers[values: HTTPField.Name("X-Forwarded-For")!]
        guard let last = values.last?.split(separator: ",").last else { return nil }
        let address = last.trimmingCharacters(in: .whitespaces)
        return address.isEmpty ? nil : address
    }
}
