import Foundation
import Logging
import PostgresNIO
import VoiceFlowJobQueue

/// The emails the platform sends, as jobs on the `email` queue.
///
/// | name | parameters | what |
/// |---|---|---|
/// | `welcome-email` | `{"userId": UUID}` | greets a newly registered user (auth adds it); guests and deleted users get none |
/// | `email-change-confirmation` | `{"userId", "newEmail", "token", "expiresAt"}` | sends the token that confirms a change of e-mail address to the new address (auth adds it); nothing once expired or when the user is gone |
/// | `email-change-notice` | `{"userId": UUID}` | tells the holder of an address that someone tried to move another account to it (no token); guests and deleted users get none |
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
        handlers.register(PlatformJobs.EmailChangeConfirmation.name, parameters: PlatformJobs.EmailChangeConfirmation.self) { job in
            guard job.expiresAt > Date() else {
                logger.info("Email change confirmation not sent: expired", metadata: ["user.id": "\(job.userId)"])
                return
            }
            guard let recipient = try await WelcomeRecipient.load(job.userId, from: postgres, logger: logger), !recipient.isGuest else {
                return
            }
            guard let smtp else {
                logger.info("Email change confirmation not sent: SMTP is not configured", metadata: ["user.id": "\(job.userId)"])
                return
            }
            try await send(emailChangeConfirmation(job, username: recipient.username, links: links), with: smtp)
            logger.info("Email change confirmation sent", metadata: ["user.id": "\(job.userId)"])
        }
        handlers.register(PlatformJobs.EmailChangeNotice.name, parameters: PlatformJobs.EmailChangeNotice.self) { job in
            guard let recipient = try await WelcomeRecipient.load(job.userId, from: postgres, logger: logger),
                !recipient.isGuest, !recipient.email.isEmpty
            else { return }
            guard let smtp else {
                logger.info("Email change notice not sent: SMTP is not configured", metadata: ["user.id": "\(job.userId)"])
                return
            }
            try await send(emailChangeNotice(recipient, links: links), with: smtp)
            logger.info("Email change notice sent", metadata: ["user.id": "\(job.userId)"])
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

    /// The message that confirms a change of address: to the new address, with the token and a link
    /// that carries it in the fragment (never sent to a server by a browser, so never in a log).
    static func emailChangeConfirmation(_ job: PlatformJobs.EmailChangeConfirmation, username: String, links: Links)
        -> MailMessage
    {
        let base = links.signIn.hasSuffix("/") ? String(links.signIn.dropLast()) : links.signIn
        return MailMessage(
            to: [job.newEmail], subject: "Confirm your new VoiceFlow e-mail address",
            text: """
                Hi \(username),

                Someone (hopefully you) asked to use this address for the VoiceFlow account \(username).

                To confirm, open \(base)/#confirm-email=\(job.token)
                or send this code to POST /api/v1/auth/confirm-email as {"token": "..."}:

                \(job.token)

                The code works once, until \(job.expiresAt.formatted(.iso8601)). If you did not ask for this, ignore this message: nothing changes.

                The VoiceFlow team
                """)
    }

    /// The notice to the holder of an address that someone tried to use it for another account.
    static func emailChangeNotice(_ recipient: WelcomeRecipient, links: Links) -> MailMessage {
        MailMessage(
            to: [recipient.email], subject: "Someone tried to use your e-mail address on VoiceFlow",
            text: """
                Hi \(recipient.username),

                Someone asked to move another VoiceFlow account to this e-mail address, which already belongs to your account. Nothing changed: your account keeps this address, and they were not told that it is yours.

                You do not need to do anything. If this keeps happening, you can sign in at \(links.signIn) and review your account.

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
