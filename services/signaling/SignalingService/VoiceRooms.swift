import Foundation
import HTTPTypes
import Logging
import VoiceFlowCommon

/// The rules of voice rooms, over ``VoiceStore``: who may join, the cap, one session per user, and
/// the room events every change is announced with (after it is stored).
struct VoiceRooms: Sendable {
    let store: VoiceStore
    let access: RoomAccess
    let events: EventPublisher
    let turn: TurnCredentials
    let metrics: SignalingMetrics
    let maxParticipants: Int
    let logger: Logger

    /// Starts `user`'s session in a room for a gateway's socket; the user's previous session (in
    /// this room or another) ends with `moved`.
    func start(_ request: VoiceSessionStart, roomID: UUID, user: AuthenticatedUser) async throws -> VoiceSessionStarted {
        try await access.requireMember(room: roomID, user: user.id)
        let session = VoiceSession(
            sessionId: UUID().lowercasedString, roomId: roomID.lowercasedString, userId: user.id.lowercasedString,
            username: user.username, gatewayId: request.gatewayId, socketId: request.socketId)
        switch try await store.start(session, maxParticipants: maxParticipants) {
        case .full:
            metrics.refusedFull()
            throw APIError(status: .conflict, code: .voiceFull, message: "This room's voice is full (\(maxParticipants) participants)")
        case .started(let others, let replaced):
            if let replaced { await announceEnd(replaced, reason: .moved) }
            await events.publish(RoomEvent(type: .voiceJoined, roomId: roomID, actorId: user.id, voice: session))
            let iceServers = turn.iceServers(for: session.userId)
            metrics.joined(turnCredentials: iceServers.filter { $0.credential != nil }.count)
            logger.info("Voice session started", metadata: ["room.id": "\(session.roomId)", "voice.session": "\(session.sessionId)"])
            return VoiceSessionStarted(session: session, others: others, iceServers: iceServers, replaced: replaced)
        }
    }

    /// Ends a session; nil when it had ended already.
    func end(_ sessionID: String, reason: VoiceLeaveReason) async throws -> VoiceSession? {
        guard let ended = try await store.end(sessionID) else { return nil }
        await announceEnd(ended, reason: reason)
        return ended
    }

    /// Sets mute, deafen or speaking; announces what changed. Nil when the session has ended.
    func update(_ session: VoiceSession, _ update: VoiceSessionUpdate) async throws -> VoiceSession? {
        guard let result = try await store.update(session.sessionId, in: session.roomId, update) else { return nil }
        let updated = result.session
        if let roomID = UUID(uuidString: updated.roomId) {
            let actor = UUID(uuidString: updated.userId)
            if result.stateChanged {
                await events.publish(RoomEvent(type: .voiceStateChanged, roomId: roomID, actorId: actor, voice: updated))
            }
            if result.speakingChanged {
                await events.publish(RoomEvent(type: .voiceSpeaking, roomId: roomID, actorId: actor, voice: updated))
            }
        }
        return updated
    }

    private func announceEnd(_ session: VoiceSession, reason: VoiceLeaveReason) async {
        metrics.ended(reason)
        guard let roomID = UUID(uuidString: session.roomId) else { return }
        await events.publish(
            RoomEvent(type: .voiceLeft, roomId: roomID, actorId: UUID(uuidString: session.userId), voice: session, voiceReason: reason))
        logger.info(
            "Voice session ended",
            metadata: ["room.id": "\(session.roomId)", "voice.session": "\(session.sessionId)", "voice.reason": "\(reason.rawValue)"])
    }
}
