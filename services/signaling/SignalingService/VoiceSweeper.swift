import Foundation
import Logging
import ServiceLifecycle
import VoiceFlowCommon
import VoiceFlowRedis

/// Ends the voice sessions nobody holds any more, every `period`; run it as a `Service`.
///
/// - A gateway is dead when its last presence heartbeat (``PresenceKeys/alive`` holds until when
///   each gateway counts as alive: its last heartbeat plus the presence TTL) is older than
///   `gatewayTimeout`: its sessions end with `disconnected` and the rooms hear it.
/// - A session whose socket its (living) gateway no longer lists in presence, two passes in a row,
///   ends the same way: a gateway that could not reach this service when the socket closed, or a
///   socket whose token expired, leaves no session behind.
///
/// Several instances may sweep at once: ending a session is atomic, so each end is announced once.
final class VoiceSweeper: Service, Sendable {
    private let rooms: VoiceRooms
    private let redis: RedisClient
    private let period: Duration
    private let gatewayTimeout: Duration
    private let presenceTTL: Duration
    private let logger: Logger

    init(rooms: VoiceRooms, redis: RedisClient, period: Duration, gatewayTimeout: Duration, presenceTTL: Duration, logger: Logger) {
        self.rooms = rooms
        self.redis = redis
        self.period = period
        self.gatewayTimeout = min(gatewayTimeout, presenceTTL)
        self.presenceTTL = presenceTTL
        self.logger = logger
    }

    func run() async throws {
        var suspects: Set<String> = []
        while !Task.isShuttingDownGracefully {
            do {
                suspects = try await sweep(suspects: suspects)
            } catch {
                logger.warning("Voice sweep failed", metadata: ["error.type": "\(type(of: error))"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.period) }
            } catch {
                return
            }
        }
    }

    /// One pass; returns the sessions whose socket was missing (ended if missing again next pass).
    func sweep(suspects: Set<String>) async throws -> Set<String> {
        let gateways = try await rooms.store.gateways()
        let replies = try await redis.pipeline([["HGETALL", PresenceKeys.alive], ["TIME"]])
        let fields = (replies.first?.array ?? []).compactMap(\.string)
        var aliveUntil: [String: Int64] = [:]
        for index in stride(from: 0, to: fields.count - 1, by: 2) { aliveUntil[fields[index]] = Int64(fields[index + 1]) ?? 0 }
        let time = (replies.last?.array ?? []).compactMap(\.string).compactMap { Int64($0) }
        let now = time.count == 2 ? time[0] * 1000 + time[1] / 1000 : Int64(Date().timeIntervalSince1970 * 1000)
        let ttl = presenceTTL.wholeMilliseconds
        let timeout = gatewayTimeout.wholeMilliseconds

        var total = 0
        var missing: Set<String> = []
        for gateway in gateways {
            let sessions = try await rooms.store.sessions(onGateway: gateway)
            let lastHeartbeat = (aliveUntil[gateway] ?? 0) - ttl
            if now - lastHeartbeat > timeout {
                if !sessions.isEmpty {
                    logger.notice("Voice sessions of a dead gateway end", metadata: ["gateway.id": "\(gateway)", "sessions": "\(sessions.count)"])
                }
                for session in sessions { _ = try await rooms.end(session.sessionId, reason: .disconnected) }
                try await rooms.store.forgetGatewayIfEmpty(gateway)
                continue
            }
            if sessions.isEmpty {
                try await rooms.store.forgetGatewayIfEmpty(gateway)
                continue
            }
            total += sessions.count
            let present = try await redis.pipeline(sessions.map { ["HEXISTS", PresenceKeys.user($0.userId), $0.socketId] })
            for (session, reply) in zip(sessions, present) where reply.int == 0 {
                if suspects.contains(session.sessionId) {
                    logger.notice("Voice session of a closed socket ends", metadata: ["voice.session": "\(session.sessionId)"])
                    if try await rooms.end(session.sessionId, reason: .disconnected) != nil { total -= 1 }
                } else {
                    missing.insert(session.sessionId)
                }
            }
        }
        rooms.metrics.observed(sessions: total, signalsRelayed: (try? await rooms.store.signalsRelayed()) ?? 0)
        return missing
    }
}
