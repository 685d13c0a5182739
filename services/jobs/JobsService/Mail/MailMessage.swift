import Foundation

/// A plain-text email for ``SMTPClient/send(_:)``.
///
/// ```swift
/// let message = MailMessage(to: ["Zoë <zoe@example.com>"], subject: "Bienvenue, Zoë 👋", text: "Hello!\n")
/// try await mailer.send(message)
/// ```
///
/// Addresses and the subject are checked before any connection is made: a line break or a
/// control character in them is refused with ``SMTPError/invalidAddress(field:reason:)`` or
/// ``SMTPError/invalidHeader(field:reason:)`` (no header injection).
public struct MailMessage: Sendable, Equatable {
    /// The sender (`address` or `Name <address>`); `nil` uses ``SMTPConfiguration/from``.
    public var from: String?
    /// The recipients (`address` or `Name <address>`), 1 to ``MailMessage/maximumRecipients``.
    public var to: [String]
    /// The subject: any Unicode without line breaks or control characters.
    public var subject: String
    /// The plain-text body, with any line endings.
    public var text: String

    /// The most recipients one message may have (the minimum every server must accept, RFC 5321 §4.5.3.1.8).
    public static let maximumRecipients = 100

    /// A plain-text message.
    public init(from: String? = nil, to: [String], subject: String, text: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
    }
}

/// A message checked and rendered: the SMTP envelope and the content for DATA.
struct OutgoingMail: Sendable {
    var sender: MailAddress
    var recipients: [MailAddress]
    var messageID: String
    /// Headers and body with CRLF line endings, not yet dot-stuffed.
    var content: String
}

extension MailMessage {
    /// Validates the message and renders it as RFC 5322 / MIME text.
    func rendered(defaultSender: MailAddress, date: Date = Date(), id: UUID = UUID()) throws(SMTPError) -> OutgoingMail {
        let sender = try from.map { text throws(SMTPError) in try MailAddress(parsing: text, field: "From") } ?? defaultSender
        guard !to.isEmpty else {
            throw .invalidAddress(field: "To", reason: "at least one recipient is required")
        }
        guard to.count <= Self.maximumRecipients else {
            throw .invalidAddress(field: "To", reason: "at most \(Self.maximumRecipients) recipients")
        }
        var recipients: [MailAddress] = []
        for text in to {
            let recipient = try MailAddress(parsing: text, field: "To")
            if !recipients.contains(where: { $0.address.lowercased() == recipient.address.lowercased() }) {
                recipients.append(recipient)
            }
        }
        guard !subject.unicodeScalars.contains(where: MailAddress.isControl) else {
            throw .invalidHeader(field: "Subject", reason: "contains a line break or control character")
        }
        let messageID = "<\(id.uuidString.lowercased())@\(sender.domain)>"
        let body = MIME.body(text)
        let headers = [
            "Date: \(MIME.date(date))",
            "From: \(MIME.mailbox(sender))",
            "To: \(recipients.map(MIME.mailbox).joined(separator: ",\r\n "))",
            "Subject: \(MIME.unstructured(subject))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(body.transferEncoding)",
        ]
        let content = headers.joined(separator: "\r\n") + "\r\n\r\n" + body.content
        return OutgoingMail(sender: sender, recipients: recipients, messageID: messageID, content: content)
    }
}
