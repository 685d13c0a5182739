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
        }
    }

    /// The acknowledgement of a client event that succeeded.
    static func acknowledgement(of event: ClientEventName) -> any Encodable & Sendable {
        switch event {
        case .roomJoin: return RoomJoinAck(roomId: roomID, participants: participants, room: room)
        case .roomLeave, .typingStart, .typingStop: return RoomRef(roomId: roomID)
        case .messageSend: return MessageSendAck(message: message)
        case .presenceUpdate: return PresenceAck(status: .inCall)
        case .authRefresh: return OkAck()
        }
    }
}
