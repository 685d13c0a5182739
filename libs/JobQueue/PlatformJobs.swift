import Foundation

/// Jobs that one service adds and the jobs service runs: their queue, name and parameters live
/// here, so both sides agree on them.
public enum PlatformJobs {
    /// The queue of outgoing email (rate limited as a whole, see `EMAIL_RATE_LIMIT_PER_MINUTE`).
    public static let emailQueue = "email"

    /// A welcome email to a newly registered user.
    public struct WelcomeEmail: Codable, Sendable, Equatable {
        public static let name = "welcome-email"
        public var userId: UUID

        public init(userId: UUID) {
            self.userId = userId
        }

        /// One welcome per user however often it is added; retried for about a day.
        public var options: JobOptions {
            JobOptions(
                attempts: 8, backoff: .exponential(base: .seconds(30), cap: .seconds(3600)),
                jobID: "welcome:\(userId.uuidString.lowercased())")
        }

        /// The job's parameters as JSON.
        public func encoded() throws -> String {
            String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        }
    }

    /// The confirmation of a requested change of e-mail address, sent to the new address: it carries
    /// the token that applies the change (`POST /api/v1/auth/confirm-email`), so the job's data is
    /// as secret as the token until it expires.
    public struct EmailChangeConfirmation: Codable, Sendable, Equatable {
        public static let name = "email-change-confirmation"
        public var userId: UUID
        /// The address to confirm, which the message goes to.
        public var newEmail: String
        /// The confirmation token (only its SHA-256 is stored by auth).
        public var token: String
        /// When the token stops working; a job that runs later sends nothing.
        public var expiresAt: Date

        public init(userId: UUID, newEmail: String, token: String, expiresAt: Date) {
            self.userId = userId
            self.newEmail = newEmail
            self.token = token
            self.expiresAt = expiresAt
        }

        /// Retried for about an hour: a confirmation is worth little later.
        public var options: JobOptions {
            JobOptions(attempts: 5, backoff: .exponential(base: .seconds(30), cap: .seconds(900)))
        }

        /// The job's parameters as JSON.
        public func encoded() throws -> String {
            String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        }
    }

    /// A notice to the holder of an address that someone asked to move another account to it: no
    /// token, nothing to act on, just so the holder knows.
    public struct EmailChangeNotice: Codable, Sendable, Equatable {
        public static let name = "email-change-notice"
        /// The account that holds the address (the notice goes to its current address).
        public var userId: UUID

        public init(userId: UUID) {
            self.userId = userId
        }

        /// At most one notice per holder and day however often the address is tried (`day` is
        /// `yyyy-MM-dd` in UTC); retried for about an hour.
        public func options(day: String) -> JobOptions {
            JobOptions(
                attempts: 5, backoff: .exponential(base: .seconds(30), cap: .seconds(900)),
                jobID: "email-change-notice:\(userId.uuidString.lowercased()):\(day)")
        }

        /// The job's parameters as JSON.
        public func encoded() throws -> String {
            String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        }
    }
}
