import Foundation
import Logging
import PostgresNIO
import VoiceFlowJobQueue

/// The emails the platform sends, as jobs on the `email` queue.
///
/// | name | parameters | what |
/// |---|---|---|
/// | `welcome-email` | `{"userId": UUID}` | greets a newly registered user (auth adds it); guests and deleted users get none |
///
/// Without SMTP settings (`SMTP_HOST` unset) the jobs complete without sending, with a log line.
/// Permanent SMTP refusals (5xx: a bad address, rejected credentials) end the job at once in the
/// dead set; transient ones (4xx, network, timeouts) are retried with the job's backoff.
enum EmailJobs {
    /// Where the welcome email points users.
    struct Links: Sendable {
        var signIn: String
    }

    static func register(
        in handlers: inout JobHandlers, postgres: PostgresClient, smtp: SMTPClient?, links: Links, logger: Logger
    ) {
        handlers.register(PlatformJobs.WelcomeEmail.name, parameters: PlatformJobs.WelcomeEmail.self) { job in
            let recipient = try await WelcomeRecipient.load(job.userId, from: postgres, logger: logger)
            guard let recipient else {
                throw UnrecoverableJobError("user \(job.userId.uuidString.lowercased()) no longer exists")
            }
            guard !recipient.isGuest, !recipient.email.isEmpty else { return }
            guard let smtp else {
                logger.info("Welcome email not sent: SMTP is not configured", metadata: ["user.id": "\(job.userId)"])
                return
            }
            try await send(welcome(recipient, links: links), with: smtp)
            logger.info("Welcome email sent", metadata: ["user.id": "\(job.userId)"])
        }
    }

    /// The welcome message for `recipient`.
    static func welcome(_ recipient: WelcomeRecipient, links: Links) -> MailMessage {
        MailMessage(
            to: [recipient.email], subject: "Welcome to VoiceFlow, \(recipient.username)",
            text: """
                Hi \(recipient.username),

                Welcome to VoiceFlow! Your account is ready.

                Sign in at \(links.signIn) to create a room, or join one with the code someone shared with you.

                If you did not create this account, you can ignore this message.

                The VoiceFlow team
                """)
    }

    /// Sends `message`; permanent refusals become `UnrecoverableJobError` (retrying cannot help).
    static func send(_ message: MailMessage, with smtp: SMTPClient) async throws {
        do {
            try await smtp.send(message)
        } catch let error where error.isPermanent {
            throw UnrecoverableJobError(error.description)
        }
    }
}

/// Who a welcome email goes to.
struct WelcomeRecipient: Sendable, Equatable {
    var username: String
    var email: String
    var isGuest: Bool

    static func load(_ id: UUID, from postgres: PostgresClient, logger: Logger) async throws -> WelcomeRecipient? {
        let rows = try await postgres.query("SELECT username, email, is_guest FROM users WHERE id = \(id)", logger: logger)
        for try await (username, email, isGuest) in rows.decode((String, String, Bool).self) {
            return WelcomeRecipient(username: username, email: email, isGuest: isGuest)
        }
        return nil
    }
}
