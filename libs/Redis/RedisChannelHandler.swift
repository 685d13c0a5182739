import NIOCore

/// One Redis connection's protocol state: writes commands, matches replies to their promises in
/// order (pipelining), and hands pub/sub messages to a callback.
///
/// `SUBSCRIBE`, `PSUBSCRIBE`, `UNSUBSCRIBE` and `PUNSUBSCRIBE` are answered with one confirmation
/// per channel or pattern, not one per command: their promise is kept until the last confirmation
/// of its command came (see ``PendingReply``), so the replies of later commands stay matched.
///
/// A NIO handler: every member is touched on its channel's event loop only.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private let reader = HiredisReader()
    private var pending = CircularBuffer<PendingReply>()
    /// Channels and patterns this connection is subscribed to, from the confirmations seen: how an
    /// `UNSUBSCRIBE` or `PUNSUBSCRIBE` without arguments knows its last confirmation.
    private var subscriptions = SubscriptionCounts()
    private let onMessage: (@Sendable (RedisPubSubMessage) -> Void)?

    /// `onMessage` makes this a subscriber connection: `message`/`pmessage` arrays go there.
    init(onMessage: (@Sendable (RedisPubSubMessage) -> Void)? = nil) {
        self.onMessage = onMessage
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64)
        for command in request.commands {
            HiredisCommandEncoder.encode(command, into: &buffer)
        }
        for (command, reply) in zip(request.commands, request.replies) {
            pending.append(PendingReply(command: command, promise: reply))
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            try reader.feed(buffer)
            while let reply = try reader.nextReply() {
                route(reply)
            }
        } catch {
            failAll(with: error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(with: .connectionClosed)
        context.fireChannelInactive()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is RedisTimeoutEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        failAll(with: .timeout)
        context.close(promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(with: .connectionClosed)
        context.close(promise: nil)
    }

    private func route(_ reply: RESPValue) {
        if let onMessage, let message = RedisPubSubMessage(reply) {
            onMessage(message)
            return
        }
        guard var first = pending.first else { return }
        let complete = first.receive(reply, subscriptions: &subscriptions)
        if complete {
            pending.removeFirst()
            first.promise.succeed(reply)
        } else {
            pending[pending.startIndex] = first
        }
    }

    private func failAll(with error: RedisError) {
        while let entry = pending.popFirst() {
            entry.promise.fail(error)
        }
    }
}

/// Commands written together, with one reply promise per command, in order.
struct RedisRequest: Sendable {
    var commands: [[[UInt8]]]
    var replies: [EventLoopPromise<RESPValue>]
}

extension RedisPubSubMessage {
    /// A `message` or `pmessage` push, or `nil` for any other reply.
    init?(_ reply: RESPValue) {
        guard case .array(let parts) = reply, let kind = parts.first?.string else { return nil }
        switch (kind, parts.count) {
        case ("message", 3):
            guard let channel = parts[1].string, let payload = parts[2].bytes else { return nil }
            self.init(channel: channel, pattern: nil, payload: payload)
        case ("pmessage", 4):
            guard let pattern = parts[1].string, let channel = parts[2].string, let payload = parts[3].bytes else { return nil }
            self.init(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }
}
