import Hummingbird
import NIOCore

/// The request context every VoiceFlow service uses.
///
/// Carries the authenticated user (set by ``AuthenticationMiddleware``), the body limit (set by
/// ``BodyLimitMiddleware``) and the peer address, so handlers need nothing global.
public struct VoiceFlowRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, once a token was verified; `nil` on public routes.
    public var identity: AuthenticatedUser?
    /// Largest body a handler may collect, in bytes.
    public var maxUploadSize: Int
    /// The TCP peer (the edge proxy when behind one).
    public let remoteAddress: SocketAddress?
    /// The client's address as resolved by ``ClientAddressMiddleware``.
    public var clientIP: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.maxUploadSize = 1 << 20
        self.remoteAddress = source.channel.remoteAddress
        self.clientIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The caller, or a 401 when the route was reached without a verified token.
    public func requireIdentity() throws(APIError) -> AuthenticatedUser {
        guard let identity else { throw APIError.unauthorized() }
        return identity
    }
}
