import Foundation
import Logging
import VoiceFlowCommon
import VoiceFlowRedis

/// Tells the gateways that a login session ended (``LoginSessionEnded``), so that its sockets are
/// disconnected at once rather than when their access tokens expire.
///
/// Best effort, as room events are: if Redis cannot be reached the event is logged and dropped,
/// and the sockets end at the latest when their access token expires (they cannot refresh it:
/// the session's refresh tokens are revoked in PostgreSQL).
struct LoginSessionAnnouncer: Sendable {
    let redis: RedisClient

    func publish(_ session: LoginSessionRef, reason: LoginSessionEnded.Reason, logger: Logger) async {
        let event = LoginSessionEnded(
            userId: session.userID.lowercasedString, sessionId: session.familyID.lowercasedString, reason: reason)
        guard let data = try? JSONEncoder().encode(event) else { return }
        do {
            try await redis.publish(LoginSessionEnded.channel, String(decoding: data, as: UTF8.self))
        } catch {
            logger.error("Ended login session not announced", metadata: ["user.id": "\(event.userId)"])
        }
    }
}
