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
}
