import NIOCore
import NIOPosix
import NIOSSL

/// A TLS context and the name to verify the server certificate against.
struct SMTPTLS: Sendable {
    var context: NIOSSLContext
    /// The host name for SNI and verification; `nil` for an IP address (verified against the peer's address).
    var serverHostname: String?
}

/// One connection to an SMTP server: writes a command and waits, with a timeout, for its reply.
struct SMTPConnection: Sendable {
    let channel: any Channel
    let timeout: Duration
    /// Fails, once the connection ends, with the first error seen (a TLS alert, a malformed reply...).
    let closeReason: EventLoopFuture<Void>

    /// Connects (with TLS from the first byte when `tls` is given); the greeting is read with ``reply(to:step:)``.
    static func connect(
        host: String, port: Int, tls: SMTPTLS?, timeout: Duration, group: any EventLoopGroup
    ) async throws(SMTPError) -> SMTPConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        do {
            let (channel, closeReason) = try await bootstrap.connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let closeReason = channel.eventLoop.makePromise(of: Void.self)
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverHostname))
                    }
                    try pipeline.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                    try pipeline.addHandler(SMTPChannelHandler(closeReason: closeReason))
                    return (channel, closeReason.futureResult)
                }
            }
            return SMTPConnection(channel: channel, timeout: timeout, closeReason: closeReason)
        } catch {
            throw SMTPError(error, step: .connect)
        }
    }

    /// Writes `command` (a line without CRLF; `nil` writes nothing) and returns the next reply.
    func reply(to command: String?, step: SMTPStep) async throws(SMTPError) -> SMTPReply {
        try await reply(to: command.map(SMTPRequest.command), step: step)
    }

    /// Writes `payload` and returns the next reply, failing with ``SMTPError/timeout(step:)``
    /// when none arrives in time.
    func reply(to payload: ByteBuffer?, step: SMTPStep) async throws(SMTPError) -> SMTPReply {
        let eventLoop = channel.eventLoop
        let promise = eventLoop.makePromise(of: SMTPReply.self)
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(SMTPError.timeout(step: step))
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        let closeReason = self.closeReason
        channel.writeAndFlush(SMTPRequest(payload: payload, reply: promise)).whenFailure { error in
            // A write fails when the connection is gone: report why it went, when that is known.
            closeReason.whenFailure { promise.fail($0) }
            promise.fail(error)
        }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                promise.fail(CancellationError())
            }
        } catch {
            throw SMTPError(error, step: step)
        }
    }

    /// Sends `command` and fails with ``SMTPError/rejected(step:code:text:)`` unless the reply
    /// code is one of `codes`.
    @discardableResult
    func expect(_ codes: Set<Int>, after command: String?, step: SMTPStep) async throws(SMTPError) -> SMTPReply {
        try await expect(codes, after: command.map(SMTPRequest.command), step: step)
    }

    /// Writes `payload` and fails with ``SMTPError/rejected(step:code:text:)`` unless the reply
    /// code is one of `codes`.
    @discardableResult
    func expect(_ codes: Set<Int>, after payload: ByteBuffer?, step: SMTPStep) async throws(SMTPError) -> SMTPReply {
        let reply = try await reply(to: payload, step: step)
        guard codes.contains(reply.code) else {
            throw .rejected(step: step, code: reply.code, text: reply.text)
        }
        return reply
    }

    /// Puts TLS in front of the pipeline, after the server's 220 to STARTTLS; the handshake
    /// runs before the next command goes out.
    func startTLS(_ tls: SMTPTLS) async throws(SMTPError) {
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverHostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw SMTPError(error, step: .startTLS)
        }
    }

    /// Closes the connection; errors (already closed) are ignored.
    func close() async {
        try? await channel.close()
    }
}

extension SMTPError {
    /// The typed error for anything thrown while talking to the server at `step`.
    init(_ error: any Error, step: SMTPStep) {
        switch error {
        case let error as SMTPError:
            self = error
        case is CancellationError:
            self = .cancelled
        case let error as SMTPWireError where error == .connectionClosed:
            self = .connectionFailed(step: step, reason: error.description)
        case let error as SMTPWireError:
            self = .protocolViolation(step: step, reason: error.description)
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            self = .tlsFailed(step: step, reason: "\(error)")
        case let error as ChannelError:
            if case .connectTimeout = error {
                self = .timeout(step: step)
            } else {
                self = .connectionFailed(step: step, reason: "\(error)")
            }
        default:
            self = .connectionFailed(step: step, reason: "\(error)")
        }
    }
}
