import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// The voice sessions of the rooms open on this gateway, as far as `voice:signal` needs them:
/// which gateway and socket hold each session. Filled from Redis when a socket joins a room and
/// from the answer to `voice:join`, kept by the room's voice events, dropped when the room closes
/// here. A session it does not know is asked of the signaling service.
final class VoiceDirectory: Sendable {
    private let rooms = Mutex<[String: [String: VoiceSession]]>([:])

    /// Remembers sessions (of one or several rooms).
    func remember(_ sessions: [VoiceSession]) {
        rooms.withLock { rooms in
            for session in sessions { rooms[session.roomId, default: [:]][session.sessionId] = session }
        }
    }

    /// Forgets one session.
    func forget(session sessionID: String, in roomID: String) {
        rooms.withLock { rooms in
            rooms[roomID]?[sessionID] = nil
            if rooms[roomID]?.isEmpty == true { rooms[roomID] = nil }
        }
    }

    /// Forgets a room (it closed on this gateway).
    func forget(room roomID: String) {
        _ = rooms.withLock { $0.removeValue(forKey: roomID) }
    }

    /// The sessions of a room known here.
    func sessions(in roomID: String) -> [VoiceSession] {
        rooms.withLock { Array(($0[roomID] ?? [:]).values) }
    }

    /// A session of a room, if known here.
    func session(_ sessionID: String, in roomID: String) -> VoiceSession? {
        rooms.withLock { $0[roomID]?[sessionID] }
    }
}

/// Voice on the gateway: the calls to the signaling service, the directory of sessions, and the
/// relay of `voice:signal` between gateways over Redis (`vf:voice:signals:<gatewayId>`), without a
/// round trip to the signaling service. Run it as a `Service` (it reads this gateway's channel).
final class VoiceRelay: Service, Sendable {
    let gatewayID: String
    let directory = VoiceDirectory()
    private let upstream: Upstream
    private let redis: RedisClient
    private let subscriber: RedisSubscriber
    private let namespace: Namespace
    let metrics: GatewayMetrics?
    private let logger: Logger

    init(
        gatewayID: String, upstream: Upstream, redis: RedisClient, subscriber: RedisSubscriber, namespace: Namespace,
        metrics: GatewayMetrics?, logger: Logger
    ) {
        self.gatewayID = gatewayID
        self.upstream = upstream
        self.redis = redis
        self.subscriber = subscriber
        self.namespace = namespace
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: Sessions

    /// The sessions of a room's voice, read from Redis (and remembered); empty if Redis fails.
    func participants(of roomID: String) async -> [VoiceSession] {
        do {
            let values = try await redis.send("HVALS", VoiceKeys.room(roomID)).array ?? []
            let decoder = WireDateCoding.decoder()
            let sessions = values.compactMap(\.bytes).compactMap { try? VoiceSession(json: $0, decoder: decoder) }
                .sorted(by: VoiceSession.oldestFirst)
            directory.remember(sessions)
            return sessions
        } catch {
            logger.warning("Voice participants not read", metadata: ["room.id": "\(roomID)"])
            return []
        }
    }

    /// Starts the socket's voice session in a room.
    func start(roomID: String, socketID: String, token: String) async throws(GatewayError) -> VoiceSessionStarted {
        let started = try await upstream.startVoice(VoiceSessionStart(roomId: roomID, gatewayId: gatewayID, socketId: socketID), token: token)
        directory.remember(started.others + [started.session])
        return started
    }

    /// Ends a session (best effort: the signaling service's sweep ends what this misses).
    func end(_ seat: VoiceSeat, reason: VoiceLeaveReason, token: String) async {
        directory.forget(session: seat.sessionId, in: seat.roomId)
        do {
            _ = try await upstream.endVoice(seat.sessionId, reason: reason, token: token)
        } catch {
            logger.warning("Voice session not ended", metadata: ["voice.session": "\(seat.sessionId)", "error.code": "\(error.code)"])
        }
    }

    /// Changes mute, deafen or speaking; nil when the session has ended.
    func update(_ seat: VoiceSeat, _ update: VoiceSessionUpdate, token: String) async throws(GatewayError) -> VoiceSession? {
        try await upstream.updateVoice(seat.sessionId, update, token: token)
    }

    // MARK: Signals

    /// Relays a signal from `seat` to the session `to` of the same voice room, on whichever gateway
    /// holds it. Throws `VOICE_PEER_UNKNOWN` for any other session.
    func signal(from seat: VoiceSeat, userID: String, to: String, data: OpaqueJSON, token: String) async throws(GatewayError) {
        guard to != seat.sessionId, UUID(uuidString: to) != nil else { throw GatewayError.voicePeerUnknown }
        let target: VoiceSession
        if let known = directory.session(to, in: seat.roomId) {
            target = known
        } else if let asked = try await upstream.voiceSession(to, token: token), asked.roomId == seat.roomId {
            directory.remember([asked])
            target = asked
        } else {
            throw GatewayError.voicePeerUnknown
        }
        let relay = VoiceSignalRelay(
            to: to, socketId: target.socketId, signal: VoiceSignalEvent(from: seat.sessionId, userId: userID, data: data),
            publishedAt: Date().timeIntervalSince1970)
        metrics?.voiceSignalRelayed()
        if target.gatewayId == gatewayID {
            deliver(relay)
            _ = try? await redis.send("INCR", VoiceKeys.signalsRelayed)
            return
        }
        guard let json = try? JSONEncoder().encode(relay) else { throw GatewayError.unavailable }
        do {
            _ = try await redis.pipeline([
                ["PUBLISH", VoiceSignalRelay.channel(gatewayID: target.gatewayId), String(decoding: json, as: UTF8.self)],
                ["INCR", VoiceKeys.signalsRelayed],
            ])
        } catch {
            throw GatewayError.unavailable
        }
    }

    /// Hands a relayed signal to its socket, if that socket still holds the session.
    private func deliver(_ relay: VoiceSignalRelay) {
        guard let socket = namespace.socket(id: relay.socketId), let session = socket.data as? ChatSession,
            session.voiceSeat?.sessionId == relay.to
        else { return }
        socket.emit(.voiceSignal(relay.signal))
        metrics?.deliveredVoiceSignal(publishedAt: relay.publishedAt)
    }

    func run() async throws {
        let channel = VoiceSignalRelay.channel(gatewayID: gatewayID)
        let subscription: RedisSubscription
        do {
            subscription = try await subscriber.subscribe([channel])
        } catch {
            logger.error("Voice signal channel not subscribed", metadata: ["channel": "\(channel)"])
            throw error
        }
        let decoder = JSONDecoder()
        await withGracefulShutdownHandler {
            for await message in subscription {
                guard let relay = try? decoder.decode(VoiceSignalRelay.self, from: Data(message.payload)) else {
                    logger.warning("Unreadable voice signal")
                    continue
                }
                deliver(relay)
            }
        } onGracefulShutdown: {
            Task { await subscription.unsubscribe() }
        }
    }
}

/// A socket's place in a room's voice.
struct VoiceSeat: Sendable, Equatable {
    var roomId: String
    var sessionId: String
}
