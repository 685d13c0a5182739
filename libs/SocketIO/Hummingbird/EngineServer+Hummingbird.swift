import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension EngineServer {
    /// Serves the polling transport on `router` and WebSocket upgrades on `webSocketRouter`, at `path`
    /// (e.g. `/socket.io`).
    public func addRoutes<Context: RequestContext, WebSocketContext: WebSocketRequestContext>(
        to router: Router<Context>, webSocketRouter: Router<WebSocketContext>, path: RouterPath
    ) {
        let responder: @Sendable (Request, Context) async throws -> Response = { request, _ in
            let engineRequest = EngineHTTPRequest(
                method: request.method.rawValue, query: Self.query(of: request), headers: Self.headers(of: request),
                remoteAddress: request.headers[.init("X-Forwarded-For")!])
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
                remoteAddress: context.request.headers[.init("X-Forwarded-For")!])
            await self.handleWebSocket(handshake: handshake, inbound: inbound, outbound: outbound)
        }
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
