import Foundation
import Hummingbird
import HTTPTypes
import VoiceFlowCommon

/// The signaling service's routes.
///
/// - `GET /api/v1/rooms/:id/voice` (through the edge): who is in a room's voice; members only.
/// - `/internal/v1/voice/*` (gateways only; the edge routes none of it): sessions are started,
///   changed and ended on behalf of the user whose token the gateway forwards, and only that
///   user's sessions can be changed or ended.
struct VoiceController: Sendable {
    let rooms: VoiceRooms
    let verifier: TokenVerifier

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let authentication = AuthenticationMiddleware(verifier: verifier)
        router.group("api/v1/rooms").add(middleware: authentication).get(":id/voice", use: roomVoice)
        let voice = router.group("internal/v1/voice").add(middleware: authentication)
        voice.post("sessions", use: start)
        voice.get("sessions/:id", use: show)
        voice.patch("sessions/:id", use: update)
        voice.post("sessions/:id/end", use: end)
        voice.get("rooms/:id/sessions", use: roomSessions)
    }

    // MARK: Public

    @Sendable func roomVoice(_ request: Request, context: VoiceFlowRequestContext) async throws -> RoomVoiceDTO {
        let user = try context.requireIdentity()
        let roomID = try context.uuidParameter("id")
        try await rooms.access.requireMember(room: roomID, user: user.id)
        let sessions = try await rooms.store.sessions(inRoom: roomID.lowercasedString)
        return RoomVoiceDTO(roomId: roomID.lowercasedString, participants: sessions.map(\.participant))
    }

    // MARK: Internal

    @Sendable func start(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<VoiceSessionStarted> {
        let user = try context.requireIdentity()
        let body = try await request.decodeJSON(as: VoiceSessionStart.self, context: context)
        guard let roomID = UUID(uuidString: body.roomId) else { throw APIError.validation("roomId must be a room id", field: "roomId") }
        for (field, value) in [("gatewayId", body.gatewayId), ("socketId", body.socketId)] where !Self.isIdentifier(value) {
            throw APIError.validation("\(field) must be 1-64 letters, digits, '.', '_' or '-'", field: field)
        }
        let started = try await rooms.start(body, roomID: roomID, user: user)
        return EditedResponse(status: .created, response: started)
    }

    @Sendable func show(_ request: Request, context: VoiceFlowRequestContext) async throws -> VoiceSession {
        let user = try context.requireIdentity()
        let session = try await knownSession(context)
        let caller = user.id.lowercasedString
        if session.userId == caller { return session }
        // Another's session is visible from one's own session in the same room's voice.
        guard let own = try await rooms.store.session(ofUser: caller), own.roomId == session.roomId else {
            throw APIError.notFound("Voice session not found")
        }
        return session
    }

    @Sendable func update(_ request: Request, context: VoiceFlowRequestContext) async throws -> VoiceSession {
        let session = try await ownSession(context)
        let body = try await request.decodeJSON(as: VoiceSessionUpdate.self, context: context)
        guard body.muted != nil || body.deafened != nil || body.speaking != nil else {
            throw APIError.validation("Give muted, deafened or speaking")
        }
        guard let updated = try await rooms.update(session, body) else { throw APIError.notFound("Voice session not found") }
        return updated
    }

    @Sendable func end(_ request: Request, context: VoiceFlowRequestContext) async throws -> VoiceSession {
        let session = try await ownSession(context)
        let body = try await request.decodeJSON(as: VoiceSessionEnd.self, context: context)
        guard let ended = try await rooms.end(session.sessionId, reason: body.reason) else { throw APIError.notFound("Voice session not found") }
        return ended
    }

    @Sendable func roomSessions(_ request: Request, context: VoiceFlowRequestContext) async throws -> VoiceSessionList {
        let user = try context.requireIdentity()
        let roomID = try context.uuidParameter("id")
        try await rooms.access.requireMember(room: roomID, user: user.id)
        return VoiceSessionList(sessions: try await rooms.store.sessions(inRoom: roomID.lowercasedString))
    }

    // MARK: Helpers

    /// The session of the `:id` path.
    private func knownSession(_ context: VoiceFlowRequestContext) async throws -> VoiceSession {
        let sessionID = try context.uuidParameter("id").lowercasedString
        guard let session = try await rooms.store.session(sessionID) else { throw APIError.notFound("Voice session not found") }
        return session
    }

    /// The session of the `:id` path if it is the caller's.
    private func ownSession(_ context: VoiceFlowRequestContext) async throws -> VoiceSession {
        let user = try context.requireIdentity()
        let session = try await knownSession(context)
        guard session.userId == user.id.lowercasedString else { throw APIError.notFound("Voice session not found") }
        return session
    }

    /// A gateway or socket id: what gateways generate, bounded.
    static func isIdentifier(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64
            && value.utf8.allSatisfy { byte in
                (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 46 || byte == 95 || byte == 45
            }
    }
}
