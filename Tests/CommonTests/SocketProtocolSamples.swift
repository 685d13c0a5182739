import Foundation
import VoiceFlowCommon

/// One value of every payload and acknowledgement type of the socket protocol, with optional
/// fields both present and absent, as the gateway would send or receive them.
enum SocketProtocolSamples {
    static let roomID = "0b7e6f3a-2c1d-4e5f-8a9b-0c1d2e3f4a5b"
    static let userID = "1c8f7a4b-3d2e-4f60-9bac-1d2e3f4a5b6c"
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    static func uuid(_ text: String) -> UUID { UUID(uuidString: text)! }

    static let admin = MemberDTO(userId: uuid(userID), username: "alice", avatarUrl: nil, role: "admin", joinedAt: now)
    static let member = MemberDTO(
        userId: UUID(), username: "bob", avatarUrl: "/api/v1/files/avatar", role: "member", joinedAt: now.addingTimeInterval(60))
    static let participants = [Participant(member: admin, status: .online), Participant(member: member, status: .offline)]

    static let room = RoomDTO(
        id: uuid(roomID), code: "ABCD2345", name: "Design", description: "Weekly sync", createdBy: uuid(userID), maxUsers: 50,
        settings: .defaults, isActive: true, memberCount: 2, createdAt: now, lastActivity: now, participants: [admin, member])
    /// As room events carry it: no description, no participants.
    static let plainRoom = RoomDTO(
        id: uuid(roomID), code: "ABCD2345", name: "Renamed", description: nil, createdBy: uuid(userID), maxUsers: 2,
        settings: RoomSettings(isPublic: false, allowGuests: true, requireApproval: true, recordMessages: false), isActive: false,
        memberCount: 1, createdAt: now, lastActivity: now)

    static let message = MessageDTO(
        id: UUID(), roomId: uuid(roomID), seq: 1, content: "hello", type: "text",
        author: AuthorDTO(id: uuid(userID), username: "alice", avatarUrl: nil), file: nil, createdAt: now, editedAt: nil, deletedAt: nil)
    static let fileMessage = MessageDTO(
        id: UUID(), roomId: uuid(roomID), seq: 2, content: "the plan", type: "file",
        author: AuthorDTO(id: uuid(userID), username: "alice", avatarUrl: "/api/v1/files/avatar"),
        file: FileDTO(id: UUID(), name: "plan.pdf", size: 1024, mimeType: "application/pdf", url: "/api/v1/files/plan"),
        createdAt: now, editedAt: now.addingTimeInterval(5), deletedAt: nil)
    /// A system message in a room that does not record messages: no author, no seq.
    static let systemMessage = MessageDTO(
        id: UUID(), roomId: uuid(roomID), seq: nil, content: "bob joined", type: "system", author: nil, file: nil, createdAt: now,
        editedAt: nil, deletedAt: nil)
    static let sessionID = "5d9a8b7c-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
    static let otherSessionID = "8a1b2c3d-4e5f-4a6b-9c7d-8e9fa0b1c2d3"
    static let voiceParticipants = [
        VoiceParticipant(userId: member.userId, username: "bob", sessionId: otherSessionID, muted: true, deafened: false, speaking: true)
    ]
    /// A STUN server, and a TURN server with coturn REST credentials.
    static let iceServers = [
        IceServer(urls: ["stun:turn.voiceflow.test:3478"]),
        IceServer(
            urls: ["turn:turn.voiceflow.test:3478?transport=udp", "turn:turn.voiceflow.test:3478?transport=tcp"],
            username: "1767229200:\(userID)", credential: "3uWq8BoPzJ1Hc0mTQk3vJm4z2Ys="),
    ]
    /// What `voice:signal` carries: a session description and an ICE candidate.
    static let offer = OpaqueJSON.object([
        "type": .string("offer"),
        "sdp": .string("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"),
    ])
    static let candidate = OpaqueJSON.object([
        "candidate": .string("candidate:842163049 1 udp 1677729535 192.0.2.7 51472 typ srflx raddr 10.0.0.2 rport 51472"),
        "sdpMid": .string("0"),
        "sdpMLineIndex": .number(0),
    ])

    static let tombstone = MessageDTO(
        id: UUID(), roomId: uuid(roomID), seq: 3, content: "", type: "text", author: nil, file: nil, createdAt: now, editedAt: now,
        deletedAt: now.addingTimeInterval(10))

    static let serverEvents: [ServerEvent] = [
        .roomJoined(RoomJoinedEvent(roomId: roomID, participants: participants)),
        .userJoined(UserJoinedEvent(roomId: roomID, userId: userID, username: "alice", status: .inCall, timestamp: now)),
        .userLeft(UserLeftEvent(roomId: roomID, userId: userID, timestamp: now)),
        .messageReceived(message),
        .messageReceived(fileMessage),
        .messageReceived(systemMessage),
        .messageEdited(MessageEditedEvent(message: fileMessage)),
        .messageDeleted(MessageDeletedEvent(roomId: roomID, message: tombstone)),
        .userTyping(UserTypingEvent(roomId: roomID, userId: userID, username: "alice")),
        .userStoppedTyping(UserStoppedTypingEvent(roomId: roomID, userId: userID)),
        .presenceChanged(PresenceChangedEvent(userId: userID, status: .away)),
        .memberJoined(MemberChangedEvent(roomId: roomID, member: member)),
        .memberLeft(MemberGoneEvent(roomId: roomID, userId: userID)),
        .memberKicked(MemberGoneEvent(roomId: roomID, userId: userID)),
        .memberRoleChanged(MemberChangedEvent(roomId: roomID, member: admin)),
        .roomUpdated(RoomUpdatedEvent(roomId: roomID, room: plainRoom)),
        .roomUpdated(RoomUpdatedEvent(roomId: roomID, room: room)),
        .roomDeleted(RoomRef(roomId: roomID)),
        .kicked(RoomRef(roomId: roomID)),
        .left(RoomRef(roomId: roomID)),
        .error(ErrorBody(code: ErrorCode.slowConsumer.rawValue, message: "Too far behind; reconnect to catch up")),
        .error(ErrorBody(code: ErrorCode.validationFailed.rawValue, message: "Invalid", details: ["content": "too long"])),
        .voiceUserJoined(
            VoiceUserJoinedEvent(roomId: roomID, userId: userID, username: "alice", sessionId: sessionID, muted: false, deafened: false)),
        .voiceUserLeft(VoiceUserLeftEvent(roomId: roomID, userId: userID, sessionId: sessionID, reason: .moved)),
        .voiceUserLeft(VoiceUserLeftEvent(roomId: roomID, userId: userID, sessionId: sessionID, reason: .roomDeleted)),
        .voiceSignal(VoiceSignalEvent(from: otherSessionID, userId: userID, data: offer)),
        .voiceSignal(VoiceSignalEvent(from: otherSessionID, userId: userID, data: candidate)),
        .voiceStateChanged(VoiceStateChangedEvent(roomId: roomID, userId: userID, sessionId: sessionID, muted: true, deafened: true)),
        .voiceSpeaking(VoiceSpeakingEvent(roomId: roomID, userId: userID, sessionId: sessionID, speaking: true)),
    ]

    static let clientEvents: [ClientEvent] = [
        .roomJoin(RoomJoinRequest(roomId: roomID)),
        .roomJoin(RoomJoinRequest(roomId: roomID.uppercased(), lastSeq: 0)),
        .roomLeave(RoomRef(roomId: roomID)),
        .messageSend(SendMessageBody(roomId: roomID, content: "hello")),
        .messageSend(SendMessageBody(roomId: roomID, content: "the plan", type: "file", fileId: UUID().uuidString)),
        .typingStart(RoomRef(roomId: roomID)),
        .typingStop(RoomRef(roomId: roomID)),
        .presenceUpdate(PresenceUpdateRequest(status: PresenceStatus.inCall.rawValue)),
        .authRefresh(AuthRefreshRequest(token: "header.payload.signature")),
        .voiceJoin(VoiceJoinRequest(roomId: roomID)),
        .voiceJoin(VoiceJoinRequest(roomId: roomID.uppercased())),
        .voiceLeave(RoomRef(roomId: roomID)),
        .voiceSignal(VoiceSignalRequest(to: otherSessionID, data: offer)),
        .voiceSignal(VoiceSignalRequest(to: otherSessionID, data: candidate)),
        .voiceState(VoiceStateRequest(roomId: roomID, muted: true)),
        .voiceState(VoiceStateRequest(roomId: roomID, muted: false, deafened: true)),
        .voiceSpeaking(VoiceSpeakingRequest(roomId: roomID, speaking: false)),
    ]

    /// The payload a client sends for `event`.
    static func payload(of event: ClientEvent) -> any Encodable & Sendable {
        switch event {
        case .roomJoin(let payload): return payload
        case .roomLeave(let payload): return payload
        case .messageSend(let payload): return payload
        case .typingStart(let payload): return payload
        case .typingStop(let payload): return payload
        case .presenceUpdate(let payload): return payload
        case .authRefresh(let payload): return payload
        case .voiceJoin(let payload): return payload
        case .voiceLeave(let payload): return payload
        case .voiceSignal(let payload): return payload
        case .voiceState(let payload): return payload
        case .voiceSpeaking(let payload): return payload
        }
    }

    /// The acknowledgement of a client event that succeeded.
    static func acknowledgement(of event: ClientEventName) -> any Encodable & Sendable {
        switch event {
        case .roomJoin: return RoomJoinAck(roomId: roomID, participants: participants, room: room, voiceParticipants: voiceParticipants)
        case .roomLeave, .typingStart, .typingStop, .voiceLeave: return RoomRef(roomId: roomID)
        case .messageSend: return MessageSendAck(message: message)
        case .presenceUpdate: return PresenceAck(status: .inCall)
        case .authRefresh, .voiceSignal: return OkAck()
        case .voiceJoin:
            return VoiceJoinAck(roomId: roomID, sessionId: sessionID, participants: voiceParticipants, iceServers: iceServers)
        case .voiceState: return VoiceStateChangedEvent(roomId: roomID, userId: userID, sessionId: sessionID, muted: true, deafened: false)
        case .voiceSpeaking: return VoiceSpeakingEvent(roomId: roomID, userId: userID, sessionId: sessionID, speaking: true)
        }
    }
}
