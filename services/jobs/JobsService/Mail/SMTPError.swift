/// The step of an SMTP conversation an error happened in.
public enum SMTPStep: String, Sendable, Equatable {
    case connect
    case greeting
    case hello
    case startTLS = "starttls"
    case authentication
    case mailFrom = "mail_from"
    case recipient
    case data
    case message
    case quit
}

/// Why ``SMTPClient/send(_:)`` did not deliver a message.
///
/// A job retries transient failures and gives up on permanent ones:
///
/// ```swift
/// do {
///     try await mailer.send(message)
/// } catch where error.isPermanent {
///     logger.error("Mail refused", metadata: ["error": "\(error)"])   // do not retry
/// }
/// ```
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An address is malformed or contains a line break (checked before connecting).
    case invalidAddress(field: String, reason: String)
    /// A header value contains a line break or a control character (checked before connecting).
    case invalidHeader(field: String, reason: String)
    /// Credentials would travel unencrypted to a host that is not loopback.
    case insecureCredentials(host: String)
    /// TLS is required (`SMTP_SECURE=starttls`) but the server does not offer STARTTLS.
    case tlsUnavailable
    /// The TLS context could not be built, or the handshake or certificate check failed.
    case tlsFailed(step: SMTPStep, reason: String)
    /// Credentials are configured but the server offers neither AUTH PLAIN nor AUTH LOGIN.
    case authenticationUnsupported
    /// The server could not be reached, or the connection broke.
    case connectionFailed(step: SMTPStep, reason: String)
    /// The server did not answer within the configured timeout.
    case timeout(step: SMTPStep)
    /// The server answered with something that is not an SMTP reply.
    case protocolViolation(step: SMTPStep, reason: String)
    /// The server refused a step with a 4xx (transient) or 5xx (permanent) reply.
    case rejected(step: SMTPStep, code: Int, text: String)
    /// The sending task was cancelled.
    case cancelled

    /// Whether retrying the same message cannot help: 5xx replies, invalid messages and
    /// configuration mismatches. Network failures, timeouts and 4xx replies are transient.
    public var isPermanent: Bool {
        switch self {
        case .invalidAddress, .invalidHeader, .insecureCredentials, .tlsUnavailable, .authenticationUnsupported:
            true
        case .rejected(_, let code, _):
            (500..<600).contains(code)
        case .tlsFailed, .connectionFailed, .timeout, .protocolViolation, .cancelled:
            false
        }
    }

    public var description: String {
        switch self {
        case .invalidAddress(let field, let reason):
            "Invalid address in \(field): \(reason)"
        case .invalidHeader(let field, let reason):
            "Invalid \(field) header: \(reason)"
        case .insecureCredentials(let host):
            "Refusing to send SMTP credentials to \(host) over an unencrypted connection"
        case .tlsUnavailable:
            "The SMTP server does not offer STARTTLS, which SMTP_SECURE=starttls requires"
        case .tlsFailed(let step, let reason):
            "SMTP TLS failed at \(step.rawValue): \(reason)"
        case .authenticationUnsupported:
            "The SMTP server offers neither AUTH PLAIN nor AUTH LOGIN"
        case .connectionFailed(let step, let reason):
            "SMTP connection failed at \(step.rawValue): \(reason)"
        case .timeout(let step):
            "SMTP server did not answer in time at \(step.rawValue)"
        case .protocolViolation(let step, let reason):
            "SMTP protocol error at \(step.rawValue): \(reason)"
        case .rejected(let step, let code, let text):
            "SMTP server refused \(step.rawValue): \(code) \(text)"
        case .cancelled:
            "SMTP send cancelled"
        }
    }
}
