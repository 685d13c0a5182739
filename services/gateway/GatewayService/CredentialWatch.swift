import Foundation
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Ends the sockets whose credentials ended, so that none outlives its token or its login:
/// a socket whose access token expired without `auth:refresh` gets `error TOKEN_EXPIRED`, and
/// the sockets of a login session that was signed out or revoked (auth publishes
/// ``LoginSessionEnded``) get `error SESSION_ENDED`; both are then disconnected (the server
/// disconnect, which Socket.IO clients do not retry on their own). Run it as a `Service`.
struct CredentialWatch: Service {
    let namespace: Namespace
    let subscriber: RedisSubscriber
    /// How often token expiry is checked.
    var period: Duration = .seconds(1)
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await expireTokens() }
                group.addTask { await followEndedSessions() }
            }
        }
    }

    private func expireTokens() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: period)
            } catch {
                return
            }
            let now = Date()
            for socket in namespace.localSockets {
                guard let session = socket.data as? ChatSession, session.tokenExpiresAt <= now else { continue }
                await end(socket, session, ErrorBody(code: ErrorCode.tokenExpired.rawValue, message: "The access token expired; refresh it and reconnect"))
            }
        }
    }

    /// Listens for ended login sessions, subscribing again (with backoff) whenever that fails.
    private func followEndedSessions() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let subscription = try await subscriber.subscribe([LoginSessionEnded.channel])
                failures = 0
                for await message in subscription {
                    guard let ended = try? JSONDecoder().decode(LoginSessionEnded.self, from: Data(message.payload)) else {
                        logger.warning("Unreadable login session event", metadata: ["redis.channel": "\(message.channel)"])
                        continue
                    }
                    await end(ended)
                }
            } catch {
                failures += 1
                if failures == 1 { logger.warning("Cannot follow ended login sessions yet; retrying") }
                try? await Task.sleep(for: .milliseconds(min(5_000, 100 * (1 << min(failures, 6)))))
            }
        }
    }

    private func end(_ ended: LoginSessionEnded) async {
        let message = ended.reason == .signedOut ? "Signed out" : "This login was revoked"
        for socket in namespace.localSockets {
            guard let session = socket.data as? ChatSession, session.userID == ended.userId,
                session.loginSession == ended.sessionId
            else { continue }
            await end(socket, session, ErrorBody(code: ErrorCode.sessionEnded.rawValue, message: message))
        }
    }

    private func end(_ socket: Socket, _ session: ChatSession, _ reason: ErrorBody) async {
        logger.info("Socket's credentials ended", metadata: ["user.id": "\(session.userID)", "code": "\(reason.code)"])
        socket.emit(.error(reason))
        await socket.disconnect()
    }
}
