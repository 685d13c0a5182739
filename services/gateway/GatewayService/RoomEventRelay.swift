import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// Brings the events the rooms and messages services publish (on `vf:room:<id>`) to this
/// gateway's sockets. The gateway subscribes to a room's channel while one of its sockets has the
/// room open, and only then; messages go through the room's one ``RoomStream``, the other events
/// straight to the room's sockets. Run it as a `Service`.
///
/// Rooms are reference counted, one count per socket that has the room open, by the same
/// ``SharedChannels`` helper the Socket.IO Redis adapter holds its room channels with: the first
/// ``retain(_:)`` subscribes; every retain of the room waits for that same subscription and fails
/// with it (giving its count back), so a failed subscribe never leaves counts or a half-open room.
final class RoomEventRelay: Service, Sendable {
    private let subscriber: RedisSubscriber
    let namespace: Namespace
    let presence: PresenceStore
    private let history: any MessageHistory
    private let streamSettings: RoomStream.Settings
    let metrics: GatewayMetrics?
    private let logger: Logger
    /// Re-checks membership of the rooms open here (none in tests that need no rooms service).
    private let audit: MembershipAudit?
    /// Voice on this gateway (none in tests without a signaling service).
    let voice: VoiceRelay?

    private let rooms: SharedChannels<RoomStream>
    private let readers: AsyncStream<(RoomStream, RedisSubscription)>
    private let readersContinuation: AsyncStream<(RoomStream, RedisSubscription)>.Continuation

    init(
        subscriber: RedisSubscriber, namespace: Namespace, presence: PresenceStore, history: any MessageHistory,
        streamSettings: RoomStream.Settings = .init(), metrics: GatewayMetrics?, audit: MembershipAudit? = nil, voice: VoiceRelay? = nil,
        logger: Logger
    ) {
        self.audit = audit
        self.voice = voice
        self.subscriber = subscriber
        self.namespace = namespace
        self.presence = presence
        self.history = history
        self.streamSettings = streamSettings
        self.metrics = metrics
        self.logger = logger
        self.rooms = SharedChannels(subscriber: subscriber)
        (readers, readersContinuation) = AsyncStream.makeStream()
    }

    /// The Socket.IO room of a chat room.
    static func socketRoom(_ roomID: String) -> String { "room:" + roomID }

    /// Rooms open on this gateway.
    var openRooms: Int { rooms.count }

    /// The Redis channel of a room.
    private static func channel(_ roomID: String) -> String {
        RoomEvent.channel(for: UUID(uuidString: roomID) ?? UUID())
    }

    /// The room's stream while some socket holds the room open.
    func stream(_ roomID: String) -> RoomStream? {
        rooms.value(of: Self.channel(roomID))
    }

    /// Holds the room's channel open for one more socket; returns the room's stream once subscribed
    /// (its subscription is then read by ``run()``, exactly once).
    func retain(_ roomID: String) async throws(GatewayError) -> RoomStream {
        do {
            return try await rooms.retain(
                Self.channel(roomID),
                make: {
                    RoomStream(
                        roomID: roomID, history: history, settings: streamSettings, metrics: metrics, logger: logger,
                        onMissedMessages: { [weak self] roomID in self?.auditSoon(roomID) })
                },
                onSubscribed: { [readersContinuation] subscription, stream in readersContinuation.yield((stream, subscription)) })
        } catch {
            logger.error("Room channel subscription failed", metadata: ["room.id": "\(roomID)"])
            throw GatewayError.unavailable
        }
    }

    /// Lets go of the room's channel for one socket; unsubscribes after the last (and returns true).
    @discardableResult
    func release(_ roomID: String) async -> Bool {
        await rooms.release(Self.channel(roomID))
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                if let audit {
                    group.addTask { await self.auditPeriodically(audit) }
                }
                for await (stream, subscription) in readers {
                    group.addTask {
                        // New messages are taken on the stream's event loop; other events come back here.
                        await stream.follow(subscription) { payload in await self.handle(payload, stream: stream) }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.readersContinuation.finish()
        }
    }

    /// Handles an event other than a new message (a new message that ``PublishedMessage`` could
    /// not read is decoded here too).
    private func handle(_ payload: [UInt8], stream: RoomStream) async {
        let roomID = stream.roomID
        guard let event = try? WireDateCoding.decoder().decode(RoomEvent.self, from: Data(payload)),
            event.version == RoomEvent.currentVersion
        else {
            logger.warning("Unreadable room event", metadata: ["room.id": "\(roomID)"])
            return
        }
        metrics?.receivedFromPubSub(publishedAt: event.publishedAt)
        if event.type == .messageCreated {
            if let message = event.message { await stream.receive(message, publishedAt: event.publishedAt) }
            return
        }
        if event.type.isVoice {
            await handleVoice(event, roomID: roomID)
            return
        }
        if event.type != .messageEdited, event.type != .messageDeleted { await stream.roomChanged() }
        let sockets = namespace.to(Self.socketRoom(roomID)).localSockets
        let sessions = sockets.compactMap { $0.data as? ChatSession }
        switch event.type {
        case .messageCreated, .roomCreated, .voiceJoined, .voiceLeft, .voiceStateChanged, .voiceSpeaking:
            break
        case .messageEdited:
            guard let message = event.message else { return }
            emit(.messageEdited(MessageEditedEvent(message: message)), to: sockets)
        case .messageDeleted:
            guard let message = event.message else { return }
            emit(.messageDeleted(MessageDeletedEvent(roomId: roomID, message: message)), to: sockets)
        case .memberJoined:
            guard let member = event.member else { return }
            emit(.memberJoined(MemberChangedEvent(roomId: roomID, member: member)), to: sockets)
        case .memberRoleChanged:
            guard let member = event.member else { return }
            emit(.memberRoleChanged(MemberChangedEvent(roomId: roomID, member: member)), to: sockets)
        case .roomUpdated:
            guard let room = event.room else { return }
            emit(.roomUpdated(RoomUpdatedEvent(roomId: roomID, room: room)), to: sockets)
        case .memberLeft, .memberKicked:
            guard let userID = event.userId else { return }
            let kicked = event.type == .memberKicked
            let gone = MemberGoneEvent(roomId: roomID, userId: userID)
            let others = PreparedEvent(kicked ? .memberKicked(gone) : .memberLeft(gone))
            for session in sessions {
                if session.userID == userID {
                    // That user is no longer a member: their sockets leave the room on every gateway.
                    session.socket.emit(kicked ? .kicked(RoomRef(roomId: roomID)) : .left(RoomRef(roomId: roomID)))
                    await GatewayEvents.closeRoom(roomID, for: session, relay: self, voiceReason: kicked ? .kicked : .left)
                } else {
                    session.socket.emit(others)
                }
            }
        case .roomDeleted:
            // Every socket leaves the room before the voice sessions' ends are published there:
            // each hears of the others' ends here (and of its own as it leaves).
            let inVoice = voice?.directory.sessions(in: roomID) ?? []
            for session in sessions {
                let own = session.voiceSeat?.sessionId
                for ended in inVoice where ended.sessionId != own {
                    session.socket.emit(
                        .voiceUserLeft(
                            VoiceUserLeftEvent(roomId: roomID, userId: ended.userId, sessionId: ended.sessionId, reason: .roomDeleted)))
                }
            }
            for session in sessions {
                session.socket.emit(.roomDeleted(RoomRef(roomId: roomID)))
                await GatewayEvents.closeRoom(roomID, for: session, relay: self, voiceReason: .roomDeleted)
            }
        }
    }

    // MARK: Membership re-checks

    private func auditPeriodically(_ audit: MembershipAudit) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: audit.period)
            } catch {
                return
            }
            var rooms: Set<String> = []
            for socket in namespace.localSockets {
                guard let session = socket.data as? ChatSession else { continue }
                rooms.formUnion(await session.joinedRooms)
            }
            await audit.retain(only: rooms)
            for roomID in rooms where await audit.claim(roomID) {
                await self.audit(roomID, with: audit)
            }
        }
    }

    /// Re-checks a room's membership soon (its stream missed messages, so events may be missed too).
    nonisolated func auditSoon(_ roomID: String) {
        guard let audit else { return }
        Task {
            guard await audit.claim(roomID) else { return }
            await self.audit(roomID, with: audit)
        }
    }

    /// Closes the room on the sockets of users who are no longer its members.
    private func audit(_ roomID: String, with audit: MembershipAudit) async {
        var sessions: [ChatSession] = []
        for socket in namespace.to(Self.socketRoom(roomID)).localSockets {
            if let session = socket.data as? ChatSession, await session.hasJoined(roomID) { sessions.append(session) }
        }
        guard !sessions.isEmpty else { return }
        let verdict = await audit.check(roomID, holders: sessions.map { ($0.userID, $0.token) })
        guard !verdict.notMembers.isEmpty else { return }
        logger.notice("Sockets of non-members leave a room", metadata: ["room.id": "\(roomID)", "users": "\(verdict.notMembers.count)"])
        for session in sessions where verdict.notMembers.contains(session.userID) {
            session.socket.emit(.left(RoomRef(roomId: roomID)))
            await GatewayEvents.closeRoom(roomID, for: session, relay: self, voiceReason: .kicked)
        }
    }

    // MARK: Voice

    /// A voice event of the room: the directory follows it, and every socket of the room here
    /// hears it (in voice or not). A socket whose session ended gives up its seat.
    private func handleVoice(_ event: RoomEvent, roomID: String) async {
        guard let session = event.voice, session.roomId == roomID else { return }
        let sockets = namespace.to(Self.socketRoom(roomID)).localSockets
        switch event.type {
        case .voiceJoined:
            voice?.directory.remember([session])
            emit(
                .voiceUserJoined(
                    VoiceUserJoinedEvent(
                        roomId: roomID, userId: session.userId, username: session.username, sessionId: session.sessionId,
                        muted: session.muted, deafened: session.deafened)),
                to: sockets)
        case .voiceLeft:
            voice?.directory.forget(session: session.sessionId, in: roomID)
            if session.gatewayId == voice?.gatewayID, let holder = namespace.socket(id: session.socketId)?.data as? ChatSession,
                holder.unseat(session: session.sessionId) != nil
            {
                await holder.stopSpeaking()
            }
            emit(
                .voiceUserLeft(
                    VoiceUserLeftEvent(
                        roomId: roomID, userId: session.userId, sessionId: session.sessionId, reason: event.voiceReason ?? .left)),
                to: sockets)
        case .voiceStateChanged:
            voice?.directory.remember([session])
            emit(
                .voiceStateChanged(
                    VoiceStateChangedEvent(
                        roomId: roomID, userId: session.userId, sessionId: session.sessionId, muted: session.muted, deafened: session.deafened)),
                to: sockets)
        case .voiceSpeaking:
            voice?.directory.remember([session])
            emit(
                .voiceSpeaking(
                    VoiceSpeakingEvent(roomId: roomID, userId: session.userId, sessionId: session.sessionId, speaking: session.speaking)),
                to: sockets)
        default:
            break
        }
    }

    /// Writes one event, encoded once, to the room's sockets on this gateway.
    private func emit(_ event: ServerEvent, to sockets: [Socket]) {
        guard !sockets.isEmpty else { return }
        let frame = PreparedEvent(event)
        for socket in sockets { socket.emit(frame) }
    }
}
