import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Hummingbird's HTTP/1.1 server channel, with Engine.IO's WebSocket transport served by NIO
/// channel handlers (``EngineWebSocketHandler``) rather than a task per connection: an idle
/// WebSocket costs only its state.
///
/// A WebSocket upgrade to one of the `endpoints` paths (`/socket.io`, or `/socket.io/`) goes to
/// that path's ``EngineServer``; one it refuses (a bad query, an unknown session) and upgrades to
/// other paths are answered 400. Every other request is Hummingbird's, as on an ``HTTP1Channel``.
public struct EngineHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    /// What became of a connection's first request.
    public enum UpgradeResult: Sendable {
        /// A WebSocket, served by the pipeline's handlers.
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    public struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    public let responder: HTTPChannelHandler.Responder
    let endpoints: [String: EngineServer]
    let configuration: HTTP1Channel.Configuration
    /// How long a client has to answer the server's WebSocket close before the connection is dropped.
    let closeTimeout: Duration

    /// - Parameters:
    ///   - endpoints: the engine serving each path, e.g. `["/socket.io": io.engine]`.
    ///   - configuration: the HTTP/1.1 settings (channel handlers, idle timeout, decoder limits).
    ///   - closeTimeout: how long a client has to answer the server's WebSocket close.
    public init(
        responder: @escaping HTTPChannelHandler.Responder, endpoints: [String: EngineServer],
        configuration: HTTP1Channel.Configuration = .init(), closeTimeout: Duration = .seconds(5)
    ) {
        self.responder = responder
        self.endpoints = Dictionary(uniqueKeysWithValues: endpoints.map { (Self.normalized($0.key), $0.value) })
        self.configuration = configuration
        self.closeTimeout = closeTimeout
    }

    /// The engine of a request target's path, if any.
    func engine(for uri: String) -> EngineServer? {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        return endpoints[Self.normalized(path)]
    }

    private static func normalized(_ path: String) -> String {
        path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let maxPayload = endpoints.values.map(\.configuration.maxPayload).max() ?? 1 << 20
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxPayload,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    guard let engine = engine(for: head.uri),
                        engine.shouldUpgrade(query: EngineServer.query(of: URI(head.uri)))
                    else { return channel.eventLoop.makeSucceededFuture(nil) }
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        guard let engine = engine(for: head.uri) else { throw ChannelError.inappropriateOperationForState }
                        try EngineWebSocketHandler.install(
                            on: channel, server: engine, handshake: engine.webSocketHandshake(head, peer: channel.remoteAddress),
                            closeTimeout: closeTimeout)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let serverUpgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandlers(configuration.additionalChannelHandlers())
                        try pipeline.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
                        let http = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return upgradeAttempted.value ? UpgradeResult.failedUpgrade(http) : UpgradeResult.notUpgraded(http)
                    }
                }
            )
            var pipelineConfiguration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(
                upgradeConfiguration: serverUpgradeConfiguration)
            pipelineConfiguration.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            pipelineConfiguration.enableErrorHandling = false  // Hummingbird answers errors
            pipelineConfiguration.enableResponseHeaderValidation = false  // HTTP types validate them
            pipelineConfiguration.decoderConfiguration.maxHeaderFieldSize = configuration.httpDecoder.maxHeaderFieldSize
            pipelineConfiguration.decoderConfiguration.maxHeaderListSize = configuration.httpDecoder.maxHeaderListSize
            pipelineConfiguration.decoderConfiguration.maxHeaderFieldCount = configuration.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: pipelineConfiguration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                // Served by the pipeline's handlers from here on; nothing waits for it.
                break
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .failedUpgrade(let http):
                await refuseUpgrade(http, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("Connection closed before its first request")
        } catch {
            logger.debug("Connection failed before its first request", metadata: ["error.type": "\(error)"])
        }
    }

    /// Answers a refused WebSocket upgrade: 400, empty, and the connection closes.
    private func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("Refused upgrade not written", metadata: ["error.type": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the WebSocket transport of each engine in `endpoints` (path → engine), served
    /// without a task per WebSocket (see ``EngineHTTP1Channel``). Route their polling transport
    /// with ``EngineServer/addRoutes(to:path:)``.
    public static func engineIO(
        _ endpoints: [String: EngineServer], configuration: HTTP1Channel.Configuration = .init()
    ) -> HTTPServerBuilder {
        .init { responder in
            EngineHTTP1Channel(responder: responder, endpoints: endpoints, configuration: configuration)
        }
    }
}
