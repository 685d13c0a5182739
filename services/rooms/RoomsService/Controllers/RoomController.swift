import Foundation
import Hummingbird
import HTTPTypes
import Logging
import VoiceFlowCommon

/// `/api/v1/rooms/*`: rooms, join codes, membership, roles and join requests.
///
/// Visibility: an active public room is visible to every signed-in user; a private or inactive room
/// only to its members (others get 404, so its existence does not leak). Changes need an admin (403).
struct RoomController: Sendable {
    let rooms: any RoomRepository
    let events: EventPublisher
    let verifier: TokenVerifier
    let limiter: RateLimiter
    let limits: RoomLimits

    func addRoutes(to router: Router<VoiceFlowRequestContext>) {
        let group = router.group("api/v1/rooms").add(middleware: AuthenticationMiddleware(verifier: verifier))
        group.post(use: create)
        group.get(use: list)
        group.get(":id", use: show)
        group.patch(":id", use: update)
        group.delete(":id", use: delete)
        group.post(":id/join", use: join)
        group.post(":id/leave", use: leave)
        group.get(":id/members", use: members)
        group.patch(":id/members/:userId", use: changeRole)
        group.delete(":id/members/:userId", use: kick)
        group.get(":id/requests", use: requests)
        group.post(":id/requests/:requestId/approve") { request, context in try await decide(request, context, approve: true) }
        group.post(":id/requests/:requestId/reject") { request, context in try await decide(request, context, approve: false) }
    }

    // MARK: Rooms

    @Sendable func create(_ request: Request, context: VoiceFlowRequestContext) async throws -> EditedResponse<RoomDTO> {
        let user = try context.requireIdentity()
        guard user.kind == .user else { throw APIError.forbidden("Guests cannot create rooms") }
        let body = try await request.decodeJSON(as: CreateRoomRequest.self, context: context)
        try await limiter.check(limits.createPerUser, subject: user.id.uuidString)
        let room = try await rooms.create(
            name: try RoomRules.validatedName(body.name),
            description: try RoomRules.validatedDescription(body.description),
            maxUsers: try RoomRules.validatedMaxUsers(body.maxUsers ?? RoomRules.defaultMaxUsers),
            settings: body.settings?.applied(to: .defaults) ?? .defaults,
            creator: user.id)
        let dto = room.dto(participants: try await rooms.members(of: room.id).map(\.dto))
        await events.publish(RoomEvent(type: .roomCreated, roomId: room.id, actorId: user.id, room: dto))
        context.logger.info("Room created", metadata: ["room.id": .string(dto.id)])
        return EditedResponse(status: .created, response: dto)
    }

    @Sendable func list(_ request: Request, context: VoiceFlowRequestContext) async throws -> RoomPage {
        let user = try context.requireIdentity()
        let query = Dictionary(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, uniquingKeysWith: { first, _ in first })
        let paging = try Paging(query: query)
        let result: (rooms: [RoomRecord], total: Int)
        switch query["scope"] ?? "mine" {
        case "mine": result = try await rooms.rooms(of: user.id, paging: paging)
        case "public": result = try await rooms.publicRooms(paging: paging)
        default: throw APIError.validation("scope must be mine or public", field: "scope")
        }
        return RoomPage(
            data: result.rooms.map { $0.dto() }, total: result.total, page: paging.page, limit: paging.limit,
            hasMore: paging.offset + result.rooms.count < result.total)
    }

    @Sendable func show(_ request: Request, context: VoiceFlowRequestContext) async throws -> RoomDTO {
        let (room, _) = try await visibleRoom(context)
        return room.dto(participants: try await rooms.members(of: room.id).map(\.dto))
    }

    @Sendable func update(_ request: Request, context: VoiceFlowRequestContext) async throws -> RoomDTO {
        let (room, user) = try await administeredRoom(context)
        let body = try await request.decodeJSON(as: UpdateRoomRequest.self, context: context)
        let name = try body.name.map(RoomRules.validatedName)
        let description: String?? = try body.description.map { try RoomRules.validatedDescription($0) }
        let maxUsers = try body.maxUsers.map(RoomRules.validatedMaxUsers)
        guard name != nil || description != nil || maxUsers != nil || body.settings != nil else {
            throw APIError.validation("Nothing to update: give name, description, maxUsers or settings")
        }
        guard
            let updated = try await rooms.update(
                room.id, name: name, description: description, maxUsers: maxUsers,
                settings: body.settings?.applied(to: room.settings))
        else { throw APIError.notFound("Room not found") }
        let dto = updated.dto(participants: try await rooms.members(of: room.id).map(\.dto))
        await events.publish(RoomEvent(type: .roomUpdated, roomId: room.id, actorId: user.id, room: dto))
        return dto
    }

    @Sendable func delete(_ request: Request, context: VoiceFlowRequestContext) async throws -> SuccessResponse {
        let (room, user) = try await administeredRoom(context)
        try await rooms.delete(room.id)
        await events.publish(RoomEvent(type: .roomDeleted, roomId: room.id, actorId: user.id))
        context.logger.info("Room deleted", metadata: ["room.id": .string(room.id.lowercasedString)])
        return SuccessResponse()
    }

    // MARK: Membership

    @Sendable func join(_ request: Request, context: VoiceFlowRequestContext) async throws -> Response {
        let user = try context.requireIdentity()
        // Every attempt counts, found or not, before the lookup: codes cannot be guessed quickly.
        try await limiter.check(limits.joinPerIP, subject: context.clientIP)
        try await limiter.check(limits.joinPerUser, subject: user.id.uuidString)
        guard let code = context.parameters.get("id").flatMap(JoinCode.normalized), let room = try await rooms.find(code: code) else {
            throw APIError.notFound("No room has that code")
        }
        if user.kind == .guest && !room.settings.allowGuests {
            throw APIError.forbidden("This room does not accept guests")
        }
        switch try await rooms.join(room.id, user: user.id) {
        case .joined(let member):
            await events.publish(RoomEvent(type: .memberJoined, roomId: room.id, actorId: user.id, member: member.dto))
            return try await joinResponse(room, request: request, context: context)
        case .alreadyMember:
            return try await joinResponse(room, request: request, context: context)
        case .pending(let requestID, let createdAt):
            let pending = JoinRequestDTO(
                id: requestID.lowercasedString, roomId: room.id.lowercasedString,
                userId: user.id.lowercasedString, username: user.username, status: "pending", createdAt: createdAt)
            return try EditedResponse(status: .accepted, response: pending).response(from: request, context: context)
        case .full:
            throw APIError.conflict(.roomFull, "The room is full")
        case .inactive:
            throw APIError.conflict(.roomInactive, "The room is no longer active")
        }
    }

    private func joinResponse(_ room: RoomRecord, request: Request, context: VoiceFlowRequestContext) async throws -> Response {
        let body = JoinResponse(roomId: room.id.lowercasedString, participants: try await rooms.members(of: room.id).map(\.dto))
        return try body.response(from: request, context: context)
    }

    @Sendable func leave(_ request: Request, context: VoiceFlowRequestContext) async throws -> SuccessResponse {
        let user = try context.requireIdentity()
        let roomID = try context.uuidParameter("id")
        guard let outcome = try await rooms.leave(roomID, user: user.id) else { throw APIError.notFound("Room not found") }
        await events.publish(RoomEvent(type: .memberLeft, roomId: roomID, actorId: user.id, userId: user.id))
        if let promoted = outcome.promoted {
            await events.publish(RoomEvent(type: .memberRoleChanged, roomId: roomID, actorId: nil, member: promoted.dto))
        }
        return SuccessResponse()
    }

    @Sendable func members(_ request: Request, context: VoiceFlowRequestContext) async throws -> MembersResponse {
        let (room, _) = try await visibleRoom(context)
        return MembersResponse(members: try await rooms.members(of: room.id).map(\.dto))
    }

    @Sendable func changeRole(_ request: Request, context: VoiceFlowRequestContext) async throws -> MemberDTO {
        let (room, user) = try await administeredRoom(context)
        let target = try context.uuidParameter("userId")
        let body = try await request.decodeJSON(as: ChangeRoleRequest.self, context: context)
        guard RoomRules.roles.contains(body.role) else { throw APIError.validation("role must be admin or member", field: "role") }
        guard try await rooms.membership(of: target, in: room.id) != nil else { throw APIError.notFound("Not a member of this room") }
        guard let member = try await rooms.setRole(body.role, of: target, in: room.id) else { throw APIError.notFound("Not a member of this room") }
        await events.publish(RoomEvent(type: .memberRoleChanged, roomId: room.id, actorId: user.id, member: member.dto))
        return member.dto
    }

    @Sendable func kick(_ request: Request, context: VoiceFlowRequestContext) async throws -> SuccessResponse {
        let (room, user) = try await administeredRoom(context)
        let target = try context.uuidParameter("userId")
        guard target != user.id else {
            // Well-formed, but not something kicking does: 422, as for every refusal the description cannot express.
            throw APIError(
                status: .unprocessableContent, code: .validationFailed, message: "Use leave to leave a room yourself",
                details: ["userId": "Use leave to leave a room yourself"])
        }
        guard try await rooms.leave(room.id, user: target) != nil else { throw APIError.notFound("Not a member of this room") }
        await events.publish(RoomEvent(type: .memberKicked, roomId: room.id, actorId: user.id, userId: target))
        return SuccessResponse()
    }

    // MARK: Join requests

    @Sendable func requests(_ request: Request, context: VoiceFlowRequestContext) async throws -> JoinRequestsResponse {
        let (room, _) = try await administeredRoom(context)
        let pending = try await rooms.pendingRequests(of: room.id)
        return JoinRequestsResponse(
            requests: pending.map { entry in
                JoinRequestDTO(
                    id: entry.id.lowercasedString, roomId: room.id.lowercasedString,
                    userId: entry.user.userId.lowercasedString, username: entry.user.username, status: "pending",
                    createdAt: entry.user.joinedAt)
            })
    }

    func decide(_ request: Request, _ context: VoiceFlowRequestContext, approve: Bool) async throws -> SuccessResponse {
        let (room, user) = try await administeredRoom(context)
        let requestID = try context.uuidParameter("requestId")
        switch try await rooms.decide(request: requestID, in: room.id, approve: approve, by: user.id) {
        case nil:
            throw APIError.notFound("No pending request with that id")
        case .approved(let member):
            await events.publish(RoomEvent(type: .memberJoined, roomId: room.id, actorId: user.id, member: member.dto))
        case .rejected:
            break
        case .full:
            throw APIError.conflict(.roomFull, "The room is full")
        case .inactive:
            throw APIError.conflict(.roomInactive, "The room is no longer active")
        case .guestsNotAllowed:
            throw APIError.forbidden("This room does not accept guests; reject the request instead")
        }
        return SuccessResponse()
    }

    // MARK: Access rules

    /// The room of the `:id` path if the caller may see it, with the caller's membership.
    private func visibleRoom(_ context: VoiceFlowRequestContext) async throws -> (RoomRecord, MemberRecord?) {
        let user = try context.requireIdentity()
        let roomID = try context.uuidParameter("id")
        guard let room = try await rooms.find(id: roomID) else { throw APIError.notFound("Room not found") }
        let membership = try await rooms.membership(of: user.id, in: room.id)
        guard membership != nil || (room.isActive && room.settings.isPublic) else { throw APIError.notFound("Room not found") }
        return (room, membership)
    }

    /// The room of the `:id` path if the caller administers it.
    private func administeredRoom(_ context: VoiceFlowRequestContext) async throws -> (RoomRecord, AuthenticatedUser) {
        let user = try context.requireIdentity()
        let (room, membership) = try await visibleRoom(context)
        guard membership?.isAdmin == true else { throw APIError.forbidden("Only room admins can do this") }
        return (room, user)
    }
}
