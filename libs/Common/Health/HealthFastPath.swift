import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `GET /health` and `GET /ready` on the connection's event loop, before the request
/// reaches the application, from the last verdict of a ``ReadinessMonitor``. A process busy with
/// thousands of connects still answers its health checks at once, so the edge does not take it
/// for dead and send its clients elsewhere in a storm of their own.
///
/// Install it as an additional HTTP/1 channel handler (one per connection); every other request
/// passes through untouched. The connection is closed after the answer, as a health checker's is.
public final class HealthFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let monitor: ReadinessMonitor
    /// The path of the request being answered here, from its head to its end.
    private var answering: String?

    /// A handler answering from `monitor`.
    public init(monitor: ReadinessMonitor) {
        self.monitor = monitor
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            if request.method == .get, let path = request.path.flatMap(Self.healthPath) {
                answering = path
                return
            }
        case .body:
            if answering != nil { return }
        case .end:
            if let path = answering {
                answering = nil
                respond(context: context, path: path)
                return
            }
        }
        context.fireChannelRead(data)
    }

    /// `/health` or `/ready` when `target` is one of them (with or without a query), else `nil`:
    /// checked without splitting, since every request of the server passes here.
    static func healthPath(_ target: String) -> String? {
        for path in ["/health", "/ready"] where target.hasPrefix(path) {
            let rest = target.utf8.dropFirst(path.utf8.count)
            if rest.isEmpty || rest.first == UInt8(ascii: "?") { return path }
        }
        return nil
    }

    private func respond(context: ChannelHandlerContext, path: String) {
        let status: HTTPResponse.Status
        let body: [UInt8]
        if path == "/health" {
            status = .ok
            body = Array(#"{"status":"ok"}"#.utf8)
        } else {
            let snapshot = monitor.snapshot
            status = snapshot.ready ? .ok : .serviceUnavailable
            body = snapshot.body
        }
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        fields[.cacheControl] = "no-store"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
