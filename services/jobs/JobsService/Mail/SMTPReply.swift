/// One SMTP reply: a three-digit code and its text, one entry per line (RFC 5321 §4.2).
struct SMTPReply: Sendable, Equatable {
    /// The reply code, 200 to 599.
    var code: Int
    /// The text of each line, without the code and separator.
    var lines: [String]

    /// The lines joined with spaces, for errors.
    var text: String { lines.joined(separator: " ") }
}

/// Why the bytes from the server are not SMTP.
enum SMTPWireError: Error, Equatable, CustomStringConvertible {
    case lineTooLong
    case tooManyLines
    case malformedReply
    case unexpectedReply
    case connectionClosed

    var description: String {
        switch self {
        case .lineTooLong: "reply line too long"
        case .tooManyLines: "reply has too many lines"
        case .malformedReply: "malformed reply line"
        case .unexpectedReply: "reply without a command"
        case .connectionClosed: "connection closed by the server"
        }
    }
}
