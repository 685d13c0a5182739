/// An HTTP request to the Engine.IO endpoint, independent of the HTTP framework.
public struct EngineHTTPRequest: Sendable {
    public var method: String
    public var query: [String: String]
    /// Header names lowercased.
    public var headers: [String: String]
    public var remoteAddress: String?

    public init(method: String, query: [String: String], headers: [String: String], remoteAddress: String? = nil) {
        self.method = method
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }
}

/// The answer to an ``EngineHTTPRequest``.
public struct EngineHTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String

    public static func == (lhs: EngineHTTPResponse, rhs: EngineHTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    static func text(_ body: String, status: Int = 200) -> EngineHTTPResponse {
        EngineHTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=UTF-8")], body: body)
    }

    static func refusal(_ refusal: HandshakeRefusal) -> EngineHTTPResponse {
        EngineHTTPResponse(
            status: refusal.httpStatus, headers: [("Content-Type", "application/json")] + refusal.headers, body: refusal.body)
    }

    static func error(_ error: EngineRequestError) -> EngineHTTPResponse {
        EngineHTTPResponse(status: error.httpStatus, headers: [("Content-Type", "application/json")], body: error.body)
    }
}

/// Reads a request body up to a limit; `nil` when it exceeds the limit.
public typealias EngineBodyReader = @Sendable (_ limit: Int) async throws -> String?

extension EngineServer {
    /// Answers one HTTP request of the polling transport (handshake, poll, send, CORS preflight).
    public func handle(_ request: EngineHTTPRequest, body: EngineBodyReader) async -> EngineHTTPResponse {
        var response = await answer(request, body: body)
        if let origin = configuration.cors.allowedOrigin(for: request.headers["origin"]) {
            response.headers.append(("Access-Control-Allow-Origin", origin))
            if origin != "*" {
                response.headers.append(("Access-Control-Allow-Credentials", "true"))
                response.headers.append(("Vary", "Origin"))
            }
        }
        return response
    }

    private func answer(_ request: EngineHTTPRequest, body: EngineBodyReader) async -> EngineHTTPResponse {
        if request.method == "OPTIONS" {
            var headers = [("Access-Control-Allow-Methods", "GET, POST, OPTIONS"), ("Access-Control-Max-Age", "86400")]
            if let requested = request.headers["access-control-request-headers"] {
                headers.append(("Access-Control-Allow-Headers", requested))
            }
            return EngineHTTPResponse(status: 204, headers: headers, body: "")
        }
        if let error = validate(request.query, isWebSocket: false) { return .error(error) }
        guard let sid = request.query["sid"] else {
            guard request.method == "GET" else { return .error(.badHandshakeMethod) }
            return handshake(request)
        }
        guard let session = session(id: sid) else { return .error(.unknownSessionID) }
        switch request.method {
        case "GET":
            guard let packets = await session.poll() else { return .error(.badRequest) }
            return .text(EngineCodec.pollingPayload(packets))
        case "POST":
            guard session.acceptsPolling else { return .error(.badRequest) }
            let payload: String?
            do {
                payload = try await body(configuration.maxPayload)
            } catch {
                session.close(reason: .transportError)
                return .error(.badRequest)
            }
            guard let payload else {
                session.close(reason: .parseError)
                return EngineHTTPResponse(
                    status: 413, headers: [("Content-Type", "application/json")], body: EngineRequestError.badRequest.body)
            }
            guard session.receive(pollingPayload: payload) else { return .error(.badRequest) }
            return .text("ok")
        default:
            return .error(.badRequest)
        }
    }

    /// The protocol's checks on `EIO` and `transport`, in the order the reference server makes them.
    func validate(_ query: [String: String], isWebSocket: Bool) -> EngineRequestError? {
        switch query["transport"] {
        case "polling" where configuration.allowsPolling && !isWebSocket:
            break
        case "websocket" where configuration.allowsWebSocket:
            // Over plain HTTP (no upgrade), a websocket request is malformed.
            if !isWebSocket { return .badRequest }
        default:
            return .unknownTransport
        }
        guard query["EIO"] == "4" else { return .unsupportedProtocolVersion }
        return nil
    }

    private func handshake(_ request: EngineHTTPRequest) -> EngineHTTPResponse {
        let handshake = EngineHandshake(query: request.query, headers: request.headers, remoteAddress: request.remoteAddress)
        switch openSession(handshake: handshake, transport: .polling) {
        case .success(let session):
            return .text(openPacket(sid: session.id, upgrades: configuration.allowsWebSocket ? "[\"websocket\"]" : "[]"))
        case .failure(let refusal):
            return .refusal(refusal)
        }
    }
}
