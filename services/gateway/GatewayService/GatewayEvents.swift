import Foundation
import Logging
import OrderedCollections
import VoiceFlowCommon
import VoiceFlowSocketIO

/// The guide's socket events: authentication at CONNECT, then `room:join`, `room:leave`,
/// `message:send`, `typing:start`/`typing:stop`, `presence:update` and `auth:refresh`; and voice:
/// `voice:join`, `voice:leave`, `voice:signal`, `voice:state` and `voice:speaking`.
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
    let voice: VoiceRelay
    let configuration: GatewayConfiguration
    let logger: Logger

    /// The Socket.IO room holding every socket of a user.
    static func userRoom(_ userID: String) -> String { "user:" + userID }

    func install() {
        namespace.use { socket in
            let refusal = (try? SocketIOValue(encoding: ConnectRefusal(code: .unauthorized))) ?? .null
            guard let auth = try? socket.handshake.auth.decode(ConnectAuth.self), !auth.token.isEmpty else {
                throw SocketIOConnectError("Authentication required", data: refusal)
            }
            let token = auth.token
            let verified: VerifiedToken
            do {
                verified = try await verifier.verifiedToken(token)
            } catch {
                throw SocketIOConnectError("Invalid or expired token", data: refusal)
            }
            socket.data = ChatSession(token: token, verified: verified, socket: socket, budget: configuration.budget)
        }
        // One disconnect handler, shared by every socket (one closure per socket would copy this
        // whole value into each).
        let onDisconnect: Socket.DisconnectHandler = { socket, reason in
            guard let session = socket.data as? ChatSession else { return }
            if reason == .forcedClose {
                // Its outgoing queue overflowed (or it sent faster than it could be served).
                logger.notice("Socket cut off", metadata: ["socket.id": "\(socket.id)", "user.id": "\(session.userID)"])
            }
            await disconnected(socket, session)
        }
        namespace.onConnection { socket in
            guard let session = socket.data as? ChatSession else { return }
            await connected(socket, session)
            socket.onDisconnect(onDisconnect)
        }
        // One handler per event for every socket (a socket's events are dispatched only once its
        // connection handler has run).
        for name in ClientEventName.allCases { on(name) }
        namespace.onAny { [metrics = relay.metrics] socket, arguments, ack in
            metrics?.received(event: "unknown", known: false)
            let error = GatewayError(code: ErrorCode.notFound.rawValue, message: "Unknown event")
            if let ack { ack([error.ack]) } else { socket.emit(.error(error.body)) }
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
    }

    /// Registers the handler of `name`, for every socket, with what every event shares: the
    /// socket's event budget, decoding of the payload into its protocol type, and the mapping of
    /// failures.
    private func on(_ name: ClientEventName) {
        namespace.on(name.rawValue) { [metrics = relay.metrics] socket, arguments, ack in
            guard let session = socket.data as? ChatSession else {
                // Only a socket on its way out has no session.
                let error = GatewayError(code: ErrorCode.unauthorized.rawValue, message: "Not connected")
                if let ack { ack([error.ack]) } else { socket.emit(.error(error.body)) }
                return
            }
            metrics?.received(event: name.rawValue, known: true)
            do throws(GatewayError) {
                // voice:signal spends its own budgets (see voiceSignal).
                if name != .voiceSignal {
                    guard await session.admitEvent(receivedAt: Socket.eventReceivedAt ?? .now) else { throw GatewayError.rateLimited }
                }
                let event = try Self.decode(name, arguments)
                let reply = try await handle(event, socket, session)
                if let direct = reply as? any DirectJSONEncodable {
                    ack?(json: direct.jsonBytes)
                } else {
                    ack?([(try? SocketIOValue(encoding: reply, encoder: WireDateCoding.encoder())) ?? .null])
                }
            } catch {
                if let ack { ack([error.ack]) } else { socket.emit(.error(error.body)) }
            }
        }
    }

    /// The event's payload in its protocol type; `VALIDATION_FAILED` naming the field otherwise.
    static func decode(_ name: ClientEventName, _ arguments: [SocketIOValue]) throws(GatewayError) -> ClientEvent {
        guard let payload = arguments.first, payload.objectValue != nil, !payload.containsBinary else {
            throw GatewayError.validation("\(name.rawValue) expects an object")
        }
        do {
            return try ClientEvent.decode(name, json: Data(payload.jsonString.utf8))
        } catch let error as DecodingError {
            throw GatewayError.validation(Self.describe(error))
        } catch {
            throw GatewayError.validation("\(name.rawValue) has an invalid payload")
        }
    }

    /// What is wrong with a payload, by field: "roomId is required", "lastSeq must be a number".
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context):
            return path(context.codingPath + [key]) + " is required"
        case .valueNotFound(let type, let context), .typeMismatch(let type, let context):
            return path(context.codingPath) + " must be " + Self.kind(of: type)
        case .dataCorrupted(let context):
            return path(context.codingPath) + " is invalid"
        @unknown default:
            return "the payload is invalid"
        }
    }

    private static func kind(of type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "of another type"
        }
    }

    /// Runs one client event; returns its acknowledgement.
    private func handle(_ event: ClientEvent, _ socket: Socket, _ session: ChatSession) async throws(GatewayError)
        -> any Encodable & Sendable
    {
        switch event {
        case .roomJoin(let request): return try await join(socket, session, request)
        case .roomLeave(let request): return try await leave(session, request)
        case .messageSend(let body): return try await send(session, body)
        case .typingStart(let request): return try await typingStart(session, request)
        case .typingStop(let request): return try await typingStop(session, request)
        case .presenceUpdate(let request): return try await updatePresence(socket, session, request)
        case .authRefresh(let request): return try await refreshToken(session, request)
        case .voiceJoin(let request): return try await voiceJoin(socket, session, request)
        case .voiceLeave(let request): return try await voiceLeave(session, request)
        case .voiceSignal(let request): return try await voiceSignal(session, request)
        case .voiceState(let request): return try await voiceState(session, request)
        case .voiceSpeaking(let request): return try await voiceSpeaking(session, request)
        }
    }

    // MARK: Rooms

    private func roomID(_ text: String) throws(GatewayError) -> String {
        guard let id = UUID(uuidString: text) else { throw GatewayError.validation("roomId must be a room id") }
        return id.lowercasedString
    }

    private func join(_ socket: Socket, _ session: ChatSession, _ request: RoomJoinRequest) async throws(GatewayError)
        -> RoomJoinAck
    {
        let roomID = try roomID(request.roomId)
        let lastSeq = request.lastSeq
        if let lastSeq, lastSeq < 0 { throw GatewayError.validation("lastSeq must be a whole number >= 0") }
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
            room = try await self.room(roomID, for: session, stream: stream)
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
        let list = participants.enumerated().map { index, member in
            Participant(member: member, status: index < statuses.count ? statuses[index] : .offline)
        }
        socket.emit(.roomJoined(RoomJoinedEvent(roomId: roomID, participants: list)))
        if firstSocketOfUser {
            let status = (try? await presence.status(of: [session.userID]).first) ?? .online
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userJoined(UserJoinedEvent(roomId: roomID, userId: session.userID, username: session.user.username, status: status)))
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
        let inVoice = await voice.participants(of: roomID)
        return RoomJoinAck(roomId: roomID, participants: list, room: room, voiceParticipants: inVoice.map(\.participant))
    }

    /// The room with its participants, checked to include the session's user: from the stream's
    /// fresh snapshot when it has one (a repeated or concurrent join costs no call to the rooms
    /// service), else read with the user's token. The socket is in the room's stream already, so
    /// a kick committed after the snapshot was taken is heard and closes the room again.
    private func room(_ roomID: String, for session: ChatSession, stream: RoomStream) async throws(GatewayError) -> RoomDTO {
        let isMember: (RoomDTO) -> Bool = { ($0.participants ?? []).contains { $0.userId == session.userID } }
        if let fresh = await stream.freshRoom(), isMember(fresh) { return fresh }
        let epoch = await stream.roomEpoch
        let room = try await upstream.room(roomID, token: session.token)
        guard isMember(room) else {
            throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "Only members can join this room")
        }
        await stream.remember(room, readAt: epoch)
        return room
    }

    private func leave(_ session: ChatSession, _ request: RoomRef) async throws(GatewayError) -> RoomRef {
        let roomID = try roomID(request.roomId)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        await Self.closeRoom(roomID, for: session, relay: relay)
        return RoomRef(roomId: roomID)
    }

    /// Closes a room on one socket: typing ends, the socket's voice session there ends (for
    /// `voiceReason`), the socket leaves the room's stream, the Socket.IO room and the channel, and
    /// if it was the user's last socket there, the room hears `room:user_left` (unless `announce`
    /// is false: a join refused before it was announced). Of several racing calls for one socket
    /// and room, exactly one does the work.
    static func closeRoom(
        _ roomID: String, for session: ChatSession, relay: RoomEventRelay, announce: Bool = true, voiceReason: VoiceLeaveReason = .left
    ) async {
        let socket = session.socket
        let (wasOpen, wasTyping) = await session.close(roomID)
        guard wasOpen else { return }
        if let seat = session.unseat(inRoom: roomID), let voice = relay.voice {
            await session.stopSpeaking()
            // The socket is leaving the room, so it would not hear its session's end: say it here.
            socket.emit(
                .voiceUserLeft(VoiceUserLeftEvent(roomId: roomID, userId: session.userID, sessionId: seat.sessionId, reason: voiceReason)))
            await voice.end(seat, reason: voiceReason, token: session.token)
        }
        await relay.stream(roomID)?.detach(socketID: socket.id)
        await socket.leave(RoomEventRelay.socketRoom(roomID))
        if await relay.release(roomID) { relay.voice?.directory.forget(room: roomID) }
        guard announce else { return }
        let remaining = (try? await relay.presence.leave(roomID: roomID, userID: session.userID, socketID: socket.id)) ?? 0
        let room = relay.namespace.to(RoomEventRelay.socketRoom(roomID))
        if wasTyping {
            await room.emit(.userStoppedTyping(UserStoppedTypingEvent(roomId: roomID, userId: session.userID)))
        }
        if remaining == 0 {
            await room.emit(.userLeft(UserLeftEvent(roomId: roomID, userId: session.userID)))
        }
    }

    // MARK: Messages

    private func send(_ session: ChatSession, _ body: SendMessageBody) async throws(GatewayError) -> MessageSendAck {
        let roomID = try roomID(body.roomId)
        let trimmed = body.content.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.storedLength <= 4000 else { throw GatewayError.validation("content must be 1-4000 characters") }
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        var forwarded = body
        forwarded.roomId = roomID
        let message = try await upstream.send(forwarded, token: session.token)
        if await session.stopTyping(roomID) {
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userStoppedTyping(UserStoppedTypingEvent(roomId: roomID, userId: session.userID)))
        }
        return MessageSendAck(message: message)
    }

    // MARK: Typing and presence

    private func typingStart(_ session: ChatSession, _ request: RoomRef) async throws(GatewayError) -> RoomRef {
        let roomID = try roomID(request.roomId)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        let room = namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID))
        let stopped = ServerEvent.userStoppedTyping(UserStoppedTypingEvent(roomId: roomID, userId: session.userID))
        let announce = await session.startTyping(roomID, timeout: configuration.typingTimeout) {
            await room.emit(stopped)
        }
        if announce {
            await room.emit(.userTyping(UserTypingEvent(roomId: roomID, userId: session.userID, username: session.user.username)))
        }
        return RoomRef(roomId: roomID)
    }

    private func typingStop(_ session: ChatSession, _ request: RoomRef) async throws(GatewayError) -> RoomRef {
        let roomID = try roomID(request.roomId)
        guard await session.hasJoined(roomID) else { throw GatewayError.notJoined }
        if await session.stopTyping(roomID) {
            await namespace.to(RoomEventRelay.socketRoom(roomID)).except(Self.userRoom(session.userID)).emit(
                .userStoppedTyping(UserStoppedTypingEvent(roomId: roomID, userId: session.userID)))
        }
        return RoomRef(roomId: roomID)
    }

    private func updatePresence(_ socket: Socket, _ session: ChatSession, _ request: PresenceUpdateRequest) async throws(GatewayError)
        -> PresenceAck
    {
        guard let status = PresenceStatus(rawValue: request.status), PresenceStatus.settable.contains(status) else {
            throw GatewayError.validation("status must be online, away or in_call")
        }
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
        return PresenceAck(status: effective)
    }

    private func refreshToken(_ session: ChatSession, _ request: AuthRefreshRequest) async throws(GatewayError) -> OkAck {
        let verified: VerifiedToken
        do {
            verified = try await verifier.verifiedToken(request.token)
        } catch {
            throw GatewayError(code: ErrorCode.unauthorized.rawValue, message: "Invalid or expired token")
        }
        guard verified.user.id == session.user.id else {
            throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "The token belongs to another user")
        }
        session.replaceToken(request.token, verified: verified)
        return OkAck()
    }

    // MARK: Voice

    private func voiceJoin(_ socket: Socket, _ session: ChatSession, _ request: VoiceJoinRequest) async throws(GatewayError) -> VoiceJoinAck {
        let roomID = try roomID(request.roomId)
        guard await session.hasJoined(roomID) else {
            // As room:join would answer: a room one cannot see is NOT_FOUND, a public room one is
            // not a member of FORBIDDEN; a member must open the room on this socket first.
            let room = try await upstream.room(roomID, token: session.token)
            guard (room.participants ?? []).contains(where: { $0.userId == session.userID }) else {
                throw GatewayError(code: ErrorCode.forbidden.rawValue, message: "Only members can join this room's voice")
            }
            throw GatewayError.notJoined
        }
        let started = try await voice.start(roomID: roomID, socketID: socket.id, token: session.token)
        let seat = VoiceSeat(roomId: roomID, sessionId: started.session.sessionId)
        // The socket's previous session (this room or another) was the user's one session, so the
        // signaling service ended it (`moved`) with this start.
        _ = session.seat(seat)
        // The room closed on this socket meanwhile: that close ended no voice session, so end it here.
        guard await session.hasJoined(roomID) else {
            if let seat = session.unseat(session: seat.sessionId) { await voice.end(seat, reason: .left, token: session.token) }
            throw GatewayError.notJoined
        }
        return VoiceJoinAck(
            roomId: roomID, sessionId: seat.sessionId, participants: started.others.map(\.participant), iceServers: started.iceServers)
    }

    private func voiceLeave(_ session: ChatSession, _ request: RoomRef) async throws(GatewayError) -> RoomRef {
        let roomID = try roomID(request.roomId)
        guard let seat = session.unseat(inRoom: roomID) else { throw GatewayError.voiceNotJoined }
        await session.stopSpeaking()
        await voice.end(seat, reason: .left, token: session.token)
        return RoomRef(roomId: roomID)
    }

    private func voiceSignal(_ session: ChatSession, _ request: VoiceSignalRequest) async throws(GatewayError) -> OkAck {
        guard let seat = session.voiceSeat else { throw GatewayError.voiceNotJoined }
        let size = (try? JSONEncoder().encode(request.data).count) ?? Int.max
        guard size <= VoiceSignalRequest.maxDataBytes else {
            throw GatewayError(
                code: ErrorCode.payloadTooLarge.rawValue, message: "data is \(size) bytes; at most \(VoiceSignalRequest.maxDataBytes) are relayed")
        }
        guard await session.admitSignal(bytes: size, receivedAt: Socket.eventReceivedAt ?? .now) else { throw GatewayError.rateLimited }
        try await voice.signal(from: seat, userID: session.userID, to: request.to.lowercased(), data: request.data, token: session.token)
        return OkAck()
    }

    private func voiceState(_ session: ChatSession, _ request: VoiceStateRequest) async throws(GatewayError) -> VoiceStateChangedEvent {
        let roomID = try roomID(request.roomId)
        guard request.muted != nil || request.deafened != nil else { throw GatewayError.validation("Give muted or deafened") }
        guard let seat = session.voiceSeat, seat.roomId == roomID else { throw GatewayError.voiceNotJoined }
        guard let updated = try await voice.update(seat, VoiceSessionUpdate(muted: request.muted, deafened: request.deafened), token: session.token)
        else {
            _ = session.unseat(session: seat.sessionId)
            throw GatewayError.voiceNotJoined
        }
        return VoiceStateChangedEvent(
            roomId: roomID, userId: session.userID, sessionId: seat.sessionId, muted: updated.muted, deafened: updated.deafened)
    }

    private func voiceSpeaking(_ session: ChatSession, _ request: VoiceSpeakingRequest) async throws(GatewayError) -> VoiceSpeakingEvent {
        let roomID = try roomID(request.roomId)
        guard let seat = session.voiceSeat, seat.roomId == roomID else { throw GatewayError.voiceNotJoined }
        let voice = self.voice
        let logger = self.logger
        await session.requestSpeaking(request.speaking, session: seat.sessionId, window: configuration.speakingWindow) { speaking in
            do {
                _ = try await voice.update(seat, VoiceSessionUpdate(speaking: speaking), token: session.token)
            } catch {
                logger.warning("Speaking state not recorded", metadata: ["voice.session": "\(seat.sessionId)"])
            }
        }
        return VoiceSpeakingEvent(roomId: roomID, userId: session.userID, sessionId: seat.sessionId, speaking: request.speaking)
    }

    // MARK: Disconnect

    private func disconnected(_ socket: Socket, _ session: ChatSession) async {
        let rooms = await session.joinedRooms
        for roomID in rooms {
            await Self.closeRoom(roomID, for: session, relay: relay, voiceReason: .disconnected)
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
}
