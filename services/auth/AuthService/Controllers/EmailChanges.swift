import Foundation
import HTTPTypes
import Logging
import VoiceFlowCommon
import VoiceFlowJobQueue

/// Changes of e-mail address, confirmed through the new address.
///
/// A request stores a pending change (the SHA-256 of a new token, replacing any earlier request) and
/// queues one e-mail: to a free address, the token that applies the change; to an address another
/// account holds, a notice to that account without a token. Both paths do the same work (one
/// look-up, one stored row, one queued job) and the caller sees the same answer, so a request says
/// nothing about whether the address is registered.
struct EmailChanges: Sendable {
    let users: any UserRepository
    let changes: any EmailChangeRepository
    let queue: JobQueue
    /// How long a confirmation token works.
    let lifetime: Duration

    /// Starts a change of `user`'s address to `newEmail` (normalized and valid); a request for the
    /// address the user already has cancels any pending change instead. Returns the pending address.
    func request(for user: UserRecord, newEmail: String, logger: Logger) async throws -> String? {
        guard newEmail.lowercased() != user.email.lowercased() else {
            try await changes.cancel(userID: user.id)
            return nil
        }
        let holder = try await users.find(email: newEmail)
        let (token, tokenHash) = TokenIssuer.newOpaqueToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        // Stored for a taken address too (its token is never sent, so it can never be used): the
        // same work either way, and a new request always replaces the previous one.
        try await changes.request(userID: user.id, newEmail: newEmail, tokenHash: tokenHash, expiresAt: expiresAt)
        do {
            if let holder {
                let notice = PlatformJobs.EmailChangeNotice(userId: holder.id)
                try await queue.add(
                    name: PlatformJobs.EmailChangeNotice.name, data: try notice.encoded(),
                    options: notice.options(day: Self.day(Date())))
            } else {
                let confirmation = PlatformJobs.EmailChangeConfirmation(
                    userId: user.id, newEmail: newEmail, token: token, expiresAt: expiresAt)
                try await queue.add(
                    name: PlatformJobs.EmailChangeConfirmation.name, data: try confirmation.encoded(),
                    options: confirmation.options)
            }
        } catch {
            // Without its e-mail the change cannot be confirmed: say so, the same way for both paths.
            logger.warning(
                "Email change not queued", metadata: ["user.id": .string(user.id.lowercasedString), "error": "\(error)"])
            throw APIError.serviceUnavailable
        }
        logger.info("Email change requested", metadata: ["user.id": .string(user.id.lowercasedString)])
        return newEmail
    }

    /// Applies the change whose token is `token`: 422 for a token that is unknown, replaced, expired
    /// or used (any string may be one, as far as the API description can say), 409 when another
    /// account took the address meanwhile.
    func confirm(token: String) async throws -> UserRecord {
        switch try await changes.confirm(tokenHash: TokenIssuer.hash(token)) {
        case .confirmed(let user):
            return user
        case .invalid:
            var error = APIError.validation("Invalid, expired or already used confirmation token", field: "token")
            error.status = .unprocessableContent
            throw error
        case .addressTaken:
            throw APIError(
                status: .conflict, code: .emailTaken, message: "That email is already registered", details: ["email": "taken"])
        }
    }

    /// `yyyy-MM-dd` of `date` in UTC.
    static func day(_ date: Date) -> String {
        String(date.formatted(.iso8601.year().month().day()).prefix(10))
    }
}
