import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTP1

extension EngineServer {
    /// Serves the polling transport on `router` at `path` (e.g. `/socket.io`). The WebSocket
    /// transport is served by the HTTP server itself: build it with
    /// ``HummingbirdCore/HTTPServerBuilder/engineIO(_:configuration:)``.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>, path: RouterPath) {
        let responder: @Sendable (Request, Context) async throws -> Response = { request, context in
            let engineRequest = EngineHTTPRequest(
                method: request.method.rawValue, query: Self.query(of: request.uri),
                headers: Self.headers(request.headers.lazy.map { ($0.name.canonicalName, $0.value) }),
                remoteAddress: self.clientAddress(
                    forwardedFor: request.headers[values: .xForwardedFor],
                    peer: (context as? any RemoteAddressRequestContext)?.remoteAddress))
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
    }

    /// The handshake of a WebSocket upgrade request, `head`, from `peer`.
    func webSocketHandshake(_ head: HTTPRequestHead, peer: SocketAddress?) -> EngineHandshake {
        EngineHandshake(
            query: Self.query(of: URI(head.uri)), headers: Self.headers(head.headers.lazy.map { ($0.name.lowercased(), $0.value) }),
            remoteAddress: clientAddress(forwardedFor: head.headers["X-Forwarded-For"], peer: peer))
    }

    /// The client's address: the last `X-Forwarded-For` entry when a proxy in front is trusted,
    /// otherwise the TCP peer (when known).
    func clientAddress(forwardedFor: [String], peer: SocketAddress?) -> String? {
        if configuration.trustsForwardedFor,
            let last = forwardedFor.last?.split(separator: ",").last,
            let address = last.split(separator: " ").first
        {
            return String(address)
        }
        return peer?.ipAddress
    }

    static func query(of uri: URI) -> [String: String] {
        var query: [String: String] = [:]
        for (key, value) in uri.queryParameters where query[String(key)] == nil {
            query[String(key)] = String(value)
        }
        return query
    }

    /// Headers by lowercased name; a repeated header's values joined with ", ".
    static func headers(_ fields: some Sequence<(name: String, value: String)>) -> [String: String] {
        var headers: [String: String] = [:]
        for (name, value) in fields {
            if let existing = headers[name] { headers[name] = existing + ", " + value } else { headers[name] = value }
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

extension HTTPField.Name {
    static var xForwardedFor: Self { Self("X-Forwarded-For")! }
}
