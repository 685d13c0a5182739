import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Sends email through an SMTP server: one connection per message, closed in every case.
///
/// ```swift
/// guard let smtp = try SMTPConfiguration(environment: EnvironmentReader()) else { return }  // email disabled
/// let mailer = try SMTPClient(configuration: smtp, logger: logger)
/// do {
///     try await mailer.send(MailMessage(to: ["zoe@example.com"], subject: "Welcome", text: "Hello Zoë!"))
/// } catch where error.isPermanent {
///     // 5xx, invalid message or configuration: retrying will not help
/// }
/// ```
///
/// The conversation: greeting 220, EHLO (HELO when EHLO is refused), STARTTLS and EHLO again
/// (per ``SMTPSecurity``), AUTH PLAIN or LOGIN when credentials are set, MAIL FROM, RCPT TO for
/// each recipient, DATA, QUIT. Every reply is awaited at most ``SMTPConfiguration/timeout``.
public struct SMTPClient: Sendable {
    /// Where and how messages are sent.
    public let configuration: SMTPConfiguration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let tls: SMTPTLS?

    /// A client for `configuration`; fails with ``SMTPError/tlsFailed(step:reason:)`` when the
    /// TLS context (system roots plus ``SMTPConfiguration/trustedRootsFile``) cannot be built.
    public init(
        configuration: SMTPConfiguration,
        logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(SMTPError) {
        self.configuration = configuration
        self.logger = logger
        self.group = eventLoopGroup
        guard configuration.security != .none else {
            self.tls = nil
            return
        }
        var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
        tlsConfiguration.minimumTLSVersion = .tlsv12
        if let file = configuration.trustedRootsFile {
            tlsConfiguration.additionalTrustRoots = [.file(file)]
        }
        do {
            let context = try NIOSSLContext(configuration: tlsConfiguration)
            let host = configuration.connectableHost
            let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
            self.tls = SMTPTLS(context: context, serverHostname: isAddress ? nil : host)
        } catch {
            throw .tlsFailed(step: .connect, reason: "\(error)")
        }
    }

    /// Sends `message`, returning once the server has accepted it for delivery.
    ///
    /// The message is checked before connecting (addresses, header injection); credentials are
    /// never sent in clear to a host that is not loopback.
    public func send(_ message: MailMessage) async throws(SMTPError) {
        let mail = try message.rendered(defaultSender: configuration.from)
        if configuration.credentials != nil && configuration.security == .none && !SMTPConfiguration.isLoopback(configuration.host) {
            throw .insecureCredentials(host: configuration.host)
        }
        var logger = self.logger
        logger[metadataKey: "smtp.host"] = "\(configuration.host)"
        logger[metadataKey: "mail.message_id"] = "\(mail.messageID)"

        let connection = try await SMTPConnection.connect(
            host: configuration.connectableHost, port: configuration.port, tls: configuration.usesImplicitTLS ? tls : nil,
            timeout: configuration.timeout, group: group)
        do {
            try await converse(over: connection, mail)
        } catch {
            await connection.close()
            logger.debug("Mail not sent", metadata: ["error": "\(error)"])
            throw error
        }
        await connection.close()
        logger.info("Mail sent", metadata: ["mail.recipients": "\(mail.recipients.count)"])
    }

    private func converse(over connection: SMTPConnection, _ mail: OutgoingMail) async throws(SMTPError) {
        try await connection.expect([220], after: nil as String?, step: .greeting)
        var capabilities = try await hello(over: connection)
        var isEncrypted = configuration.usesImplicitTLS
        if !isEncrypted && configuration.security != .none {
            if let tls, capabilities.supports("STARTTLS") {
                try await connection.expect([220], after: "STARTTLS", step: .startTLS)
                try await connection.startTLS(tls)
                isEncrypted = true
                capabilities = try await hello(over: connection)
            } else if configuration.security == .starttls {
                throw .tlsUnavailable
            }
        }
        if let credentials = configuration.credentials {
            guard isEncrypted || SMTPConfiguration.isLoopback(configuration.host) else {
                throw .insecureCredentials(host: configuration.host)
            }
            try await authenticate(over: connection, credentials, capabilities: capabilities)
        }
        try await connection.expect([250], after: "MAIL FROM:<\(mail.sender.address)>", step: .mailFrom)
        for recipient in mail.recipients {
            try await connection.expect([250, 251], after: "RCPT TO:<\(recipient.address)>", step: .recipient)
        }
        try await connection.expect([354], after: "DATA", step: .data)
        try await connection.expect([250], after: SMTPRequest.data(mail.content), step: .message)
        // The message is accepted: a failed QUIT changes nothing.
        _ = try? await connection.reply(to: "QUIT", step: .quit)
    }

    /// EHLO, or HELO when the server refuses EHLO (5xx); returns the advertised extensions.
    private func hello(over connection: SMTPConnection) async throws(SMTPError) -> SMTPCapabilities {
        let reply = try await connection.reply(to: "EHLO \(configuration.heloName)", step: .hello)
        switch reply.code {
        case 250:
            return SMTPCapabilities(ehlo: reply)
        case 500..<600:
            try await connection.expect([250], after: "HELO \(configuration.heloName)", step: .hello)
            return SMTPCapabilities()
        default:
            throw .rejected(step: .hello, code: reply.code, text: reply.text)
        }
    }

    /// AUTH PLAIN, or AUTH LOGIN when only that is offered. Never logs the exchange.
    private func authenticate(
        over connection: SMTPConnection, _ credentials: SMTPCredentials, capabilities: SMTPCapabilities
    ) async throws(SMTPError) {
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        let mechanisms = capabilities.authenticationMechanisms
        if mechanisms.contains("PLAIN") {
            let token = base64("\u{0}\(credentials.username)\u{0}\(credentials.password)")
            try await connection.expect([235], after: "AUTH PLAIN \(token)", step: .authentication)
        } else if mechanisms.contains("LOGIN") {
            try await connection.expect([334], after: "AUTH LOGIN", step: .authentication)
            try await connection.expect([334], after: base64(credentials.username), step: .authentication)
            try await connection.expect([235], after: base64(credentials.password), step: .authentication)
        } else {
            throw .authenticationUnsupported
        }
    }
}
