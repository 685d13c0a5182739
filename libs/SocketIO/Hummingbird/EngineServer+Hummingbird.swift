import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension EngineServer {
    /// Serves the polling transport on `router` and WebSocket upgrades on `webSocketRouter`, at `path`
    /// (e.g. `/socket.io`).
    public func addRoutes<Context: RequestContext, WebSocketContext: WebSocketRequestContext & ChannelRequestContext>(
        to router: Router<Context>, webSocketRouter: Router<WebSocketContext>, path: RouterPath
    ) {
        let responder: @Sendable (Request, Context) async throws -> Response = { request, context in
            let engineRequest = EngineHTTPRequest(
                method: request.method.rawValue, query: Self.query(of: request), headers: Self.headers(of: request),
                remoteAddress: self.clientAddress(of: request, context: context))
            let response = await self.handle(engineRequest) { limit in
                do {
                    let buffer = try await request.body.collect(upTo: limit)
                    return String(buffer: buffer)
                } catch let error as HTTPError where error.status == .contentTooLarge {
                    return nil
                }
            }
            return Self.response(response)
        }
        for method in [HTTPRequest.Method.get, .post, .options, .put, .delete, .patch, .head] {
            router.on(path, method: method, use: responder)
        }
        webSocketRouter.ws(path) { request, _ in
            self.shouldUpgrade(query: Self.query(of: request)) ? .upgrade([:]) : .dontUpgrade
        } onUpgrade: { inbound, outbound, context in
            let handshake = EngineHandshake(
                query: Self.query(of: context.request), headers: Self.headers(of: context.request),
                remoteAddress: self.clientAddress(of: context.request, context: context.requestContext))
            await self.handleWebSocket(
                handshake: handshake, channel: context.requestContext.channel, inbound: inbound, outbound: outbound)
        }
    }

    /// The client's address: the last `X-Forwarded-For` entry when a proxy in front is trusted,
    /// otherwise the TCP peer (when the context knows it).
    func clientAddress(of request: Request, context: some RequestContext) -> String? {
        if configuration.trustsForwardedFor,
            let last = request.headers[values: HTTPField.Name("X-Forwarded-For")!].last?.split(separator: ",").last,
            let address = last.split(separator: " ").first
        {
            return String(address)
        }
        return (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
    }

    static func query(of request: Request) -> [String: String] {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil {
            query[String(key)] = String(value)
        }
        return query
    }

    static func headers(of request: Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] { headers[name] = existing + ", " + field.value } else { headers[name] = field.value }
        }
        return headers
    }

    static func response(_ response: EngineHTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: response.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: response.body)))
    }
}

/// A request context that holds the connection's NIO channel: a WebSocket's frames are written
/// to it directly, on its event loop.
public protocol ChannelRequestContext {
    /// The connection's channel.
    var channel: any Channel { get }
}

/// The request context of a WebSocket router that knows the TCP peer, so that per-address
/// handshake limits apply to WebSocket clients too, and the connection's channel, which frames
/// are written to.
public struct EngineWebSocketRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext,
    ChannelRequestContext
{
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }
}
