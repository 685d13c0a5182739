import Foundation
import Logging
import OrderedCollections
import VoiceFlowCommon
import VoiceFlowSocketIO

/// The guide's socket events: authentication at CONNECT, then `room:join`, `room:leave`,
/// `message:send`, `typing:start`/`typing:stop`, `presence:update` and `auth:refresh`.
///
/// Every event is validated; events with an acknowledgement answer `{error: {code, message}}` on
/// failure, others get an `error` event `{code, message}`.
struct GatewayEvents: Sendable {
    let namespace: Namespace
    let verifier: TokenVerifier
    let upstream: Upstream
    let presence: PresenceStore
    var announcer: PresenceAnnouncer { PresenceAnnouncer(presence: presence, namespace: namespace) }
    let relay: RoomEventRelay
    let configuration: GatewayConfiguration
    let logger: Logger

    /// The Socket.IO room holding every socket of a user.
    static func userRoom(_ userID: String) -> String { "user:" + userID }

    func install() {
        namespace.use { socket in
            guard let token = socket.handshake.auth["token"]?.stringValue, !token.isEmpty else {
                throw SocketIOConnectError("Authentication required", data: ["code": "UNAUTHORIZED"])
            }
            let user: AuthenticatedUser
            do {
                user = try await verifier.verify(token)
            } catch {
                throw SocketIOConnectError("Invalid or expired token", data: ["code": "UNAUTHORIZED"])
            }
            socket.data = ChatSession(user: user, token: token, socket: socket, eventsPerSecond: configuration.eventsPerSecond)
        }
        namespace.onConnection { socket in
            guard let session = socket.data as? ChatSession else { return }
            await connected(socket, session)
        }
    }

    private func connected(_ socket: Socket, _ session: ChatSession) async {
        await socket.join(Self.userRoom(session.userID))
        do {
            let previous = try await presence.status(of: [session.userID]).first
            try await presence.connect(userID: session.userID, socketID: socket.id)
            // A new tab can lift an "away" user back to online in the rooms their other tabs are in.
            if let status = try await presence.status(of: [session.userID]).first {
                await announcer.announce(userID: session.userID, status: status, previous: previous)
            }
        } catch {
            logger.warning("Presence not recorded", metadata: ["user.id": "\(session.userID)"])
        }
        on(socket, session, .roomJoin, handler: join)
        on(socket, session, .roomLeave, handler: leave)
        on(socket, session, .messageSend, handler: send)
        on(socket, session, .typingStart, handler: typingStart)
        on(socket, session, .typingStop, handler: typingStop)
        on(socket, session, .presenceUpdate, handler: updatePresence)
        on(socket, session, .authRefresh, handler: refreshToken)
        socket.onAny { [metrics = relay.metrics] socket, arguments, ack in
            metrics?.received(event: "unknown", known: false)
            let error = GatewayError(code: ErrorCode.notFound.rawValue, message: "Unknown event")
            if let ack { ack([error.ack]) } else { socket.emit(.error, [error.payload]) }
        }
        socket.onDisconnect { socket, _ in
            await disconnected(socket, session)
        }
    }

    private typealias Handler = @Sendable (Socket, ChatSession, [String: SocketIOValue]) async throws(GatewayError) -> SocketIOValue

    /// Registers `handler` with the rate limit, payload validation and error mapping every event shares.
    private func on(_ socket: Socket, _ session: ChatSession, _ event: ClientEventName, handler: @escaping Handler) {
        socket.on(event) { [metrics = relay.metrics] socket, arguments, ack in
            metrics?.received(event: event.rawValue, known: true)
            do throws(GatewayError) {
                guard await session.admitEvent() else { throw GatewayError.rateLimited }
                guard let object = arguments.first?.objectValue else {
                    throw GatewayError.validation("\(event) expects an object")
                }
                let reply = try await handler(socket, session, Dictionary(uniqueKeysWithValues: object.map { ($0.key, $0.value) }))
                ack?([reply])
            } catch {
                if let ack { ack([error.ack]) } else { socket.emit(.error, [error.payload]) }
            }
        }
    }

    // MARK: Rooms

    private func roomID(in payload: [String: SocketIOValue]) throws(GatewayError) -> String {
        guard let text = payload["roomId"]?.stringValue, let id = UUID(uuidString: text) else {
            throw GatewayError.validation("roomId must be a room id")
        }
        return id.uuidString.lowercased()
    }

    private func join(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        let roomID = try roomID(in: payload)
        var lastSeq: Int?
        if let value = payload["lastSeq"], value != .null {
            guard let seq = value.intValue, seq >= 0 else { throw GatewayError.validation("lastSeq must be a whole number >= 0") }
            lastSeq = seq
        }
        // Into the room first, then the membership check: a kick committed meanwhile is heard
        // (and closes the room again) rather than missed.
        let isNew = await session.open(roomID)
        let stream: RoomStream
        if isNew {
            await socket.join(RoomEventRelay.socketRoom(roomID))
            do {
                stream = try await relay.retain(roomID)
            } catch {
                // Not half-open: a retried room:join must start over, subscription included.
                _ = await session.close(roomID)
                await socket.leave(RoomEventRelay.socketRoom(roomID))
                throw error
            }
        } else if let open = relay.stream(roomID) {
            stream = open
        } else {
            throw GatewayError.unavailable
        }
        let room: RoomDTO
        do throws(GatewayError) {
            room = try await upstream.room(roomID, token: session.token)
            guard (room.participants ?? []).contains(where: { $0.userId == session.userID }) else {
                throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "Only members can join this room")
            }
        } catch {
            if isNew { await Self.closeRoom(roomID, for: session, relay: relay, announce: false) }
            throw error
        }
        let participants = room.participants ?? []
        var firstSocketOfUser = false
        if isNew {
            do {
                firstSocketOfUser = try await presence.join(roomID: roomID, userID: session.userID, socketID: socket.id) == 1
            } catch {
                logger.warning("Presence not recorded", metadata: ["room.id": "\(roomID)"])
            }
        }
        let statuses = (try? await presence.status(of: participants.map(\.userId))) ?? []
        var list: [SocketIOValue] = []
        for (index, member) in participants.enumerated() {
            guard var value = try? SocketIOValue(encoding: member), case .object(var fields) = value else { continue }
            fields["status"] = .string((index < statuses.count ? statuses[index] : .offline).rawValue)
            value = .object(fields)
            list.append(value)
        }
        let reply: SocketIOValue = [
            "roomId": .string(roomID), "participants": .array(list), "room": (try? SocketIOValue(encoding: room)) ?? .null,
        ]
        socket.emit(.roomJoined, [["roomId": .string(roomID), "participants": .array(list)]])
        if firstSocketOfUser {
            let status = (try? await presence.status(of: [session.userID]).first) ?? .online
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userJoined,
                [
                    [
                        "roomId": .string(roomID), "userId": .string(session.userID), "username": .string(session.user.username),
                        "status": .string(status.rawValue), "timestamp": .string(Self.now()),
                    ]
                ])
        }
        // Missed messages first (in order), then the ack; live ones follow from the stream.
        if isNew || lastSeq != nil {
            do {
                try await stream.attach(session, after: lastSeq)
            } catch {
                if isNew { await Self.closeRoom(roomID, for: session, relay: relay) }
                throw error
            }
        }
        // A kick (or leave, or deletion) heard while this join was under way closed the room again:
        // undo what this join added after that close, and say so.
        guard await session.hasJoined(roomID) else {
            await stream.detach(socketID: socket.id)
            _ = try? await presence.leave(roomID: roomID, userID: session.userID, socketID: socket.id)
            throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "No longer a member of this room")
        }
        return reply
    }

    private func leave(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        let roomID = try roomID(in: payload)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        await Self.closeRoom(roomID, for: session, relay: relay)
        return ["roomId": .string(roomID)]
    }

    /// Closes a room on one socket: typing ends, the socket leaves the room's stream, the
    /// Socket.IO room and the channel, and if it was the user's last socket there, the room hears
    /// `room:user_left` (unless `announce` is false: a join refused before it was announced).
    /// Of several racing calls for one socket and room, exactly one does the work.
    static func closeRoom(_ roomID: String, for session: ChatSession, relay: RoomEventRelay, announce: Bool = true) async {
        let socket = session.socket
        let (wasOpen, wasTyping) = await session.close(roomID)
        guard wasOpen else { return }
        await relay.stream(roomID)?.detach(socketID: socket.id)
        await socket.leave(RoomEventRelay.socketRoom(roomID))
        await relay.release(roomID)
        guard announce else { return }
        let remaining = (try? await relay.presence.leave(roomID: roomID, userID: session.userID, socketID: socket.id)) ?? 0
        let room = relay.namespace.to(RoomEventRelay.socketRoom(roomID))
        if wasTyping {
            await room.emit(.userStoppedTyping, [["roomId": .string(roomID), "userId": .string(session.userID)]])
        }
        if remaining == 0 {
            await room.emit(.userLeft, [["roomId": .string(roomID), "userId": .string(session.userID), "timestamp": .string(now())]])
        }
    }

    // MARK: Messages

    private func send(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        let roomID = try roomID(in: payload)
        guard let content = payload["content"]?.stringValue else { throw GatewayError.validation("content must be a string") }
        let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.storedLength <= 4000 else { throw GatewayError.validation("content must be 1-4000 characters") }
        var type: String?
        if let value = payload["type"], value != .null {
            guard let text = value.stringValue else { throw GatewayError.validation("type must be a string") }
            type = text
        }
        var fileID: String?
        if let value = payload["fileId"], value != .null {
            guard let text = value.stringValue else { throw GatewayError.validation("fileId must be a string") }
            fileID = text
        }
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        let message = try await upstream.send(
            SendMessageBody(roomId: roomID, content: content, type: type, fileId: fileID), token: session.token)
        if await session.stopTyping(roomID) {
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userStoppedTyping, [["roomId": .string(roomID), "userId": .string(session.userID)]])
        }
        return ["message": (try? SocketIOValue(encoding: message)) ?? .null]
    }

    // MARK: Typing and presence

    private func typingStart(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        let roomID = try roomID(in: payload)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        let room = namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID))
        let stopped: SocketIOValue = ["roomId": .string(roomID), "userId": .string(session.userID)]
        let announce = await session.startTyping(roomID, timeout: configuration.typingTimeout) {
            await room.emit(.userStoppedTyping, [stopped])
        }
        if announce {
            await room.emit(
                .userTyping,
                [["roomId": .string(roomID), "userId": .string(session.userID), "username": .string(session.user.username)]])
        }
        return ["roomId": .string(roomID)]
    }

    private func typingStop(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        let roomID = try roomID(in: payload)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        if await session.stopTyping(roomID) {
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userStoppedTyping, [["roomId": .string(roomID), "userId": .string(session.userID)]])
        }
        return ["roomId": .string(roomID)]
    }

    private func updatePresence(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        guard let text = payload["status"]?.stringValue, PresenceStatus.settable.contains(text), let status = PresenceStatus(rawValue: text)
        else { throw GatewayError.validation("status must be online, away or in_call") }
        let previous: PresenceStatus?
        do {
            previous = try await presence.status(of: [session.userID]).first
            try await presence.setStatus(status, userID: session.userID, socketID: socket.id)
        } catch {
            logger.warning("Presence not recorded", metadata: ["user.id": "\(session.userID)"])
            throw GatewayError.unavailable
        }
        // The effective status is the best of the user's sockets: only a change is news.
        let effective = (try? await presence.status(of: [session.userID]).first) ?? status
        await announcer.announce(userID: session.userID, status: effective, previous: previous, alsoTo: await session.joinedRooms)
        return ["status": .string(effective.rawValue)]
    }

    private func refreshToken(_ socket: Socket, _ session: ChatSession, _ payload: [String: SocketIOValue]) async throws(GatewayError)
        -> SocketIOValue
    {
        guard let token = payload["token"]?.stringValue else { throw GatewayError.validation("token must be a string") }
        let user: AuthenticatedUser
        do {
            user = try await verifier.verify(token)
        } catch {
            throw GatewayError(code: ErrorCode.unauthorized.rawValue, message: "Invalid or expired token")
        }
        guard user.id == session.user.id else {
            throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "The token belongs to another user")
        }
        session.replaceToken(token)
        return ["ok": true]
    }

    // MARK: Disconnect

    private func disconnected(_ socket: Socket, _ session: ChatSession) async {
        let rooms = await session.joinedRooms
        for roomID in rooms {
            await Self.closeRoom(roomID, for: session, relay: relay)
        }
        _ = await session.stopAllTyping()
        do {
            let previous = try await presence.status(of: [session.userID]).first
            let (socketRooms, status) = try await presence.disconnect(userID: session.userID, socketID: socket.id)
            // Offline after the last tab; or, say, online again when the tab that was in a call closes.
            await announcer.announce(userID: session.userID, status: status, previous: previous, alsoTo: rooms + socketRooms)
        } catch {
            logger.warning("Presence not cleared", metadata: ["user.id": "\(session.userID)"])
        }
    }

    static func now() -> String {
        Date().formatted(.iso8601)
    }
}
