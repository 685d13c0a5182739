import Foundation
import Hummingbird
import HTTPTypes
import Logging
import VoiceFlowCommon

/// `/api/v1/messages` and `/api/v1/rooms/:roomId/messages`: sending, history, edits and deletes.
///
/// Only members read or write a room's messages (others get 404). A message is committed before it
/// is published, with the room's next sequence number. In rooms with `recordMessages: false` a
/// message is published live but never stored: it has no `seq` and no history.
struct MessageController: Sendable {
    let messages: any MessageRepository
    let access: RoomAccessLookup
    let metrics: MessageMetrics
    let events: EventPublisher
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let sendLimit: RateLimitRule

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let authenticated = AuthenticationMiddleware(verifier: verifier)
        let group = router.group("api/v1/messages").add(middleware: authenticated)
        group.post(use: send)
        group.patch(":id", use: edit)
        group.delete(":id", use: delete)
        router.group("api/v1/rooms/:roomId/messages").add(middleware: authenticated).get(use: history)
    }

    @Sendable func send(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<MessageDTO> {
        let user = try context.requireIdentity()
        let body = try await request.decodeJSON(as: StrictSendMessageBody.self, context: context).body
        guard let roomID = UUID(uuidString: body.roomId) else { throw APIError.validation("roomId must be a UUID", field: "roomId") }
        let content = try MessageRules.validatedContent(body.content)
        let type = body.type ?? (body.fileId == nil ? "text" : "file")
        guard MessageRules.clientTypes.contains(type) else {
            throw APIError.validation("type must be text, file or voice_note", field: "type")
        }
        let fileID = try body.fileId.map { raw throws(APIError) -> UUID in
            guard let id = UUID(uuidString: raw) else { throw APIError.validation("fileId must be a UUID", field: "fileId") }
            return id
        }
        guard MessageRules.typesWithFile.contains(type) == (fileID != nil) else {
            throw APIError.unprocessable("file and voice_note messages carry a fileId; text messages do not", field: "fileId")
        }
        // Only members get this far, so an inactive room here is a dormant one: posting wakes it up.
        let access = try await memberAccess(room: roomID, user: user)
        if let fileID {
            guard access.recordMessages else {
                // Downloads are allowed through a stored message; this room stores none.
                throw APIError.unprocessable("files cannot be shared in a room that does not record messages", field: "fileId")
            }
            guard let mimeType = try await messages.uploadType(fileID, of: user.id) else {
                throw APIError.unprocessable("fileId must be one of your uploads", field: "fileId")
            }
            guard type != "voice_note" || mimeType.hasPrefix("audio/") else {
                throw APIError.unprocessable("a voice_note's file must be audio", field: "fileId")
            }
        }
        try await limiter.check(sendLimit, subject: user.id.uuidString)

        let message: MessageDTO
        if access.recordMessages {
            message = try await store(room: roomID, author: user, content: content, type: type, file: fileID)
        } else {
            message = MessageDTO(
                id: UUID(), roomId: roomID, seq: nil, content: content, type: type,
                author: try await messages.author(user.id), file: nil, createdAt: Date(), editedAt: nil, deletedAt: nil)
        }
        await events.publish(RoomEvent(type: .messageCreated, roomId: roomID, actorId: user.id, message: message))
        return EditedResponse(status: .created, response: message)
    }

    @Sendable func history(_ request: Request, context: VoiceFlowRequestContext) async throws -> MessagePage {
        let user = try context.requireIdentity()
        let roomID = try context.uuidParameter("roomId")
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
        let (cursor, limit) = try HistoryCursor.parse(query)
        _ = try await memberAccess(room: roomID, user: user)
        let page = try await messages.history(room: roomID, cursor: cursor, limit: limit)
        return MessagePage(data: page.messages, total: page.total, hasMore: page.hasMore)
    }

    @Sendable func edit(_ request: Request, context: VoiceFlowRequestContext) async throws -> MessageDTO {
        let user = try context.requireIdentity()
        let (existing, authorID) = try await visibleMessage(context, user: user)
        guard authorID == user.id else { throw APIError.forbidden("Only the author can edit a message") }
        guard existing.deletedAt == nil else { throw APIError.notFound("Message not found") }
        let body = try await request.decodeJSON(as: EditMessageBody.self, context: context)
        let content = try MessageRules.validatedContent(body.content)
        guard let edited = try await messages.edit(UUID(uuidString: existing.id)!, content: content) else {
            throw APIError.notFound("Message not found")
        }
        await events.publish(RoomEvent(type: .messageEdited, roomId: UUID(uuidString: edited.roomId)!, actorId: user.id, message: edited))
        return edited
    }

    @Sendable func delete(_ request: Request, context: VoiceFlowRequestContext) async throws -> SuccessResponse {
        let user = try context.requireIdentity()
        let (existing, authorID) = try await visibleMessage(context, user: user)
        guard existing.deletedAt == nil else { throw APIError.notFound("Message not found") }
        let roomID = UUID(uuidString: existing.roomId)!
        if authorID != user.id {
            // A privilege, so checked against the database rather than the cache.
            let access = try await memberAccess(room: roomID, user: user, fresh: true)
            guard access.role == "admin" else { throw APIError.forbidden("Only the author or a room admin can delete a message") }
        }
        guard let deleted = try await messages.delete(UUID(uuidString: existing.id)!) else { throw APIError.notFound("Message not found") }
        await events.publish(RoomEvent(type: .messageDeleted, roomId: roomID, actorId: user.id, message: deleted))
        return SuccessResponse()
    }

    /// The caller's access to `room`, or 404 when the room does not exist or the caller is no member.
    /// `fresh` reads the database even when a cached answer exists.
    private func memberAccess(room: UUID, user: AuthenticatedUser, fresh: Bool = false) async throws -> RoomAccess {
        let found = fresh ? try await access.fresh(room: room, user: user.id) : try await access.access(room: room, user: user.id)
        guard let found, found.role != nil else { throw APIError.notFound("Room not found") }
        return found
    }

    /// Stores the message. The statement checks membership itself, so a stale cached answer never
    /// lets a former member post. When it stores nothing although the access check let the caller
    /// post, the database says why: the room closed (409 `ROOM_INACTIVE`), or the caller is no
    /// longer a member (404, as for any non-member); if the caller is a member again by then, the
    /// statement runs once more.
    private func store(room: UUID, author: AuthenticatedUser, content: String, type: String, file: UUID?) async throws -> MessageDTO {
        for attempt in 1...2 {
            if let stored = try await messages.create(room: room, author: author.id, content: content, type: type, file: file) {
                metrics.messageStored()
                return stored
            }
            access.forget(room: room)
            guard let current = try await access.fresh(room: room, user: author.id) else { throw APIError.notFound("Room not found") }
            if current.isClosed { throw APIError.conflict(.roomInactive, "The room is no longer active") }
            if current.role == nil || attempt == 2 { throw APIError.notFound("Room not found") }
        }
        throw APIError.notFound("Room not found")
    }

    /// The `:id` message if the caller is a member of its room.
    private func visibleMessage(_ context: VoiceFlowRequestContext, user: AuthenticatedUser) async throws -> (MessageDTO, UUID?) {
        let id = try context.uuidParameter("id")
        guard let (message, authorID) = try await messages.find(id) else { throw APIError.notFound("Message not found") }
        guard let roomID = UUID(uuidString: message.roomId), (try? await memberAccess(room: roomID, user: user)) != nil else {
            throw APIError.notFound("Message not found")
        }
        return (message, authorID)
    }
}
