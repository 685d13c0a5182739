import DequeModule
import Foundation
import Logging
import NIOCore
import NIOPosix
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO

/// One room's ordered stream of messages on this gateway, shared by every local socket that has
/// the room open.
///
/// Live messages arrive from Redis in publish order, which is not always sequence order (two
/// commits racing publish in either order). The stream puts them back in order: a message ahead
/// of its turn waits in a small reorder buffer for ``Settings/reorderWait``; if the missing ones
/// have not arrived by then, **one** history fetch for the room fills the gap, whatever the number
/// of sockets. Each message is encoded into its Socket.IO frame **once**, and the same bytes are
/// written to every socket of the room.
///
/// A socket joining with `lastSeq` is caught up first (from the recent messages the stream keeps,
/// or from history when it is further behind), then becomes live: missed messages first, then live
/// ones, with no duplicate and no gap. Per socket, the stream keeps only the last sequence number
/// it was given.
///
/// Live messages are written to the sockets at most once per ``Settings/flushWindow``: a message
/// that finds the room's last write older than that goes out at once; one that comes sooner waits
/// for the window to end, and goes out with every other one that came meanwhile, in one write per
/// socket. A quiet room pays no delay; a busy one pays a few milliseconds for far fewer writes.
///
/// The stream runs on one NIO event loop (its actor executor), where it also reads the room's
/// Redis channel (``follow(_:otherEvents:)``): a message goes from Redis to the sockets of that
/// loop without a thread hop, and to the other loop's sockets with one.
///
/// ```swift
/// let stream = try await relay.retain(roomID)      // the room's stream, subscribed
/// try await stream.attach(session, after: lastSeq) // missed messages, then live ones
/// await stream.detach(socketID: socket.id)
/// ```
actor RoomStream {
    /// Tuning of the reorder buffer and the catch-up window.
    struct Settings: Sendable {
        /// How long a live message ahead of its turn waits for the missing ones before they are fetched.
        var reorderWait: Duration = .milliseconds(10)
        /// Recent messages kept to catch joining sockets up without a history fetch.
        var recentCapacity = 256
        /// Live messages held in the reorder buffer at most; newer ones are fetched with the gap.
        var maxPending = 4_096
        /// How long the room with its participants, as last read from the rooms service, answers
        /// further joins (repeated ones included) without reading it again. Any membership or room
        /// event ends it sooner.
        var roomSnapshotLifetime: Duration = .seconds(5)
        /// The shortest time between two writes of live messages to the room's sockets (zero: each
        /// message is written as it comes).
        var flushWindow: Duration = .milliseconds(25)
    }

    nonisolated let roomID: String
    /// The executor of the event loop the stream runs on.
    private nonisolated let executor: any SerialExecutor
    private nonisolated let eventLoop: any EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let history: any MessageHistory
    private let settings: Settings
    private let metrics: GatewayMetrics?
    private let logger: Logger
    private let encoder = WireDateCoding.encoder()

    private struct Entry {
        let seq: Int
        let frame: PreparedEvent
        /// For a live message held in the reorder buffer: its place among the live messages held
        /// so far (1 for the first), telling whether it came before or during a history read.
        var arrival = 0
    }

    private struct Member {
        let session: ChatSession
        /// The last sequence number this socket was given.
        var lastSeq: Int
        /// Live messages given and not yet written, for the next flush.
        var unsent: [PreparedEvent] = []
    }

    /// Every message up to `head` went out (or was given up on); `nil` until the room's newest
    /// sequence number is known.
    private var head: Int?
    private var opening: Task<Result<Int, GatewayError>, Never>?
    /// Live messages that arrived ahead of their turn, by sequence number.
    private var pending: [Int: Entry] = [:]
    /// The highest sequence number heard of (live), delivered or not.
    private var highestSeen = 0
    /// Live messages held so far (each held one's ``Entry/arrival``).
    private var held = 0
    /// The last messages up to `head`, in order, for catching sockets up.
    private var recent: Deque<Entry> = []
    /// Sockets receiving the live stream.
    private var members: [Member] = []
    /// Sockets being caught up, by socket id, with the attempt that owns them.
    private var joining: [String: (session: ChatSession, attempt: Int)] = [:]
    private var attempts = 0
    private var gapFill: Task<Void, Never>?
    /// When live messages were last written to the sockets.
    private var lastFlush: ContinuousClock.Instant?
    /// A flush is scheduled for the end of the window.
    private var flushScheduled = false
    /// Some member has unsent messages.
    private var hasUnsent = false
    /// When the messages given since the last flush were published (seconds since 1970), timing
    /// their delivery once written.
    private var unsentPublishedAt: [Double] = []
    /// The room as last read, while it is fresh (see ``Settings/roomSnapshotLifetime``).
    private var snapshot: (room: RoomDTO, takenAt: ContinuousClock.Instant)?
    /// Moves on with every event that can change the room or its members: a read that started
    /// before one is not kept.
    private(set) var roomEpoch = 0

    /// Called when the stream had to fetch messages it missed live (other events may be missed too).
    private let onMissedMessages: (@Sendable (String) -> Void)?

    init(
        roomID: String, history: any MessageHistory, settings: Settings, metrics: GatewayMetrics?, logger: Logger,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.next(),
        onMissedMessages: (@Sendable (String) -> Void)? = nil
    ) {
        self.executor = eventLoop.executor
        self.eventLoop = eventLoop
        self.onMissedMessages = onMissedMessages
        self.roomID = roomID
        self.history = history
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    // MARK: The room

    /// The room with its participants if it was read within the snapshot lifetime and nothing
    /// changed it since.
    func freshRoom() -> RoomDTO? {
        guard let snapshot, ContinuousClock.now - snapshot.takenAt < settings.roomSnapshotLifetime else { return nil }
        return snapshot.room
    }

    /// Keeps `room`, read when ``roomEpoch`` was `epoch`, unless the room changed since.
    func remember(_ room: RoomDTO, readAt epoch: Int) {
        guard epoch == roomEpoch else { return }
        snapshot = (room, .now)
    }

    /// The room or its members changed (an event came): the snapshot is gone.
    func roomChanged() {
        roomEpoch += 1
        snapshot = nil
    }

    // MARK: Sockets

    /// Adds a socket to the stream: the messages after `lastSeq` first (with `nil`, nothing older
    /// than now), then every live message. A socket already in the stream that asks for an older
    /// `lastSeq` is sent the messages after it again; otherwise a repeated attach costs nothing.
    /// - Throws: `SERVICE_UNAVAILABLE` (or the messages service's refusal) when the missed
    ///   messages cannot be read; the socket is then not in the stream.
    func attach(_ session: ChatSession, after lastSeq: Int?) async throws(GatewayError) {
        let socket = session.socket
        let newest = try await establishHead(token: session.token)
        if let index = members.firstIndex(where: { $0.session === session }) {
            guard let lastSeq, lastSeq < members[index].lastSeq else { return }
            // What it was given and not yet written is sent again by the catch-up below.
            members.remove(at: index)
        }
        attempts += 1
        let attempt = attempts
        joining[socket.id] = (session, attempt)
        defer { if joining[socket.id]?.attempt == attempt { joining[socket.id] = nil } }
        var cursor = lastSeq ?? newest
        while let head, cursor < head {
            if let first = recent.first, first.seq <= cursor + 1 {
                for entry in recent where entry.seq > cursor { send(entry.frame, to: session) }
                cursor = head
                break
            }
            let page = try await history.messages(in: roomID, after: cursor, token: session.token)
            guard joining[socket.id]?.attempt == attempt else { return }  // left meanwhile
            let before = cursor
            for message in page.data {
                guard let seq = message.seq, seq > cursor else { continue }
                send(frame(for: message), to: session)
                cursor = seq
            }
            if !page.hasMore, cursor == before {
                // History has nothing after `cursor`: what is left up to `head` is in `recent`,
                // or those numbers were skipped for good.
                cursor = max(cursor, (recent.first?.seq ?? (self.head ?? cursor) + 1) - 1)
            }
        }
        members.append(Member(session: session, lastSeq: cursor))
    }

    /// Takes a socket out of the stream (also one still being caught up).
    func detach(socketID: String) {
        joining[socketID] = nil
        guard let index = members.firstIndex(where: { $0.session.socket.id == socketID }) else { return }
        // What it was given before it left is still written.
        write(members[index].unsent, to: members[index].session)
        members.remove(at: index)
    }

    // MARK: Live messages

    /// Reads the room's channel until it ends: new messages go into the stream here, on its event
    /// loop; every other event is handed to `otherEvents`, in the order they came.
    func follow(_ subscription: RedisSubscription, otherEvents: @Sendable (_ payload: [UInt8]) async -> Void) async {
        for await message in subscription {
            if let published = PublishedMessage(roomEvent: message.payload) {
                metrics?.receivedFromPubSub(publishedAt: published.publishedAt)
                receive(published)
                flushSoon()
            } else {
                await otherEvents(message.payload)
            }
        }
    }

    /// A message published to the room. `publishedAt` (seconds since 1970) times its delivery.
    func receive(_ message: MessageDTO, publishedAt: Double? = nil) {
        receive(seq: message.seq, frame: frame(for: message), publishedAt: publishedAt)
        flushSoon()
    }

    /// A message published to the room, read from its event without being decoded: its JSON
    /// becomes the frame as it is. (Written at the next flush: see ``flushSoon()``.)
    private func receive(_ published: PublishedMessage) {
        receive(
            seq: published.seq, frame: PreparedEvent(ServerEventName.messageReceived.rawValue, json: published.json),
            publishedAt: published.publishedAt)
    }

    private func receive(seq: Int?, frame: PreparedEvent, publishedAt: Double?) {
        guard let seq else {
            // A room that records nothing: no order to keep, every socket gets it at once.
            for member in members { send(frame, to: member.session) }
            for (_, entry) in joining { send(frame, to: entry.session) }
            if let publishedAt { metrics?.wroteMessage(publishedAt: publishedAt) }
            return
        }
        highestSeen = max(highestSeen, seq)
        guard let head else {
            hold(Entry(seq: seq, frame: frame))
            return
        }
        if seq <= head { return }
        if seq == head + 1 {
            advance(Entry(seq: seq, frame: frame))
            drainPending()
        } else {
            metrics?.heldForReorder()
            hold(Entry(seq: seq, frame: frame))
        }
        if let publishedAt { unsentPublishedAt.append(publishedAt) }
        if hasGap { scheduleGapFill() }
    }

    private func hold(_ entry: Entry) {
        guard pending.count < settings.maxPending else { return }  // fetched with the gap instead
        var entry = entry
        held += 1
        entry.arrival = held
        pending[entry.seq] = entry
    }

    /// Gives the next message in order to every live socket (written at the next flush) and keeps
    /// it for catch-ups.
    private func advance(_ entry: Entry) {
        head = entry.seq
        pending[entry.seq] = nil  // a live copy held while history brought the same message
        recent.append(entry)
        if recent.count > settings.recentCapacity { recent.removeFirst() }
        for index in members.indices where members[index].lastSeq < entry.seq {
            members[index].unsent.append(entry.frame)
            members[index].lastSeq = entry.seq
            hasUnsent = true
        }
    }

    // MARK: Flushing

    /// Writes what the sockets were given now if the last write is a window old, else schedules
    /// the write for the end of the window (what comes meanwhile goes with it).
    private func flushSoon() {
        guard hasUnsent || !unsentPublishedAt.isEmpty, !flushScheduled else { return }
        let now = ContinuousClock.now
        guard let lastFlush, now - lastFlush < settings.flushWindow else {
            flush(at: now)
            return
        }
        flushScheduled = true
        let wait = settings.flushWindow - (now - lastFlush)
        eventLoop.scheduleTask(in: TimeAmount(wait)) {
            Task { await self.flushScheduledWrite() }
        }
    }

    /// Messages given to sockets and not yet written (one per socket per message).
    var unsentMessageCount: Int { members.reduce(0) { $0 + $1.unsent.count } }

    private func flushScheduledWrite() {
        flushScheduled = false
        flush(at: .now)
    }

    /// Writes every socket's unsent messages, all of them in one write per socket.
    private func flush(at now: ContinuousClock.Instant) {
        lastFlush = now
        if hasUnsent {
            hasUnsent = false
            for index in members.indices where !members[index].unsent.isEmpty {
                write(members[index].unsent, to: members[index].session)
                members[index].unsent.removeAll(keepingCapacity: true)
            }
        }
        for publishedAt in unsentPublishedAt { metrics?.wroteMessage(publishedAt: publishedAt) }
        unsentPublishedAt.removeAll(keepingCapacity: true)
    }

    private func write(_ frames: [PreparedEvent], to session: ChatSession) {
        guard !frames.isEmpty else { return }
        let socket = session.socket
        if socket.emit(frames) {
            metrics?.delivered(frames.count)
        } else if socket.isConnected {
            // The write was refused while the socket is still in: its queue overflowed just now.
            metrics?.cutOffSlowConsumer()
        }
    }

    private func drainPending() {
        while let head, let next = pending.removeValue(forKey: head + 1) { advance(next) }
    }

    private func send(_ frame: PreparedEvent, to session: ChatSession) {
        write([frame], to: session)
    }

    // MARK: Filling gaps

    /// The room's newest sequence number, read once per stream.
    private func establishHead(token: String) async throws(GatewayError) -> Int {
        if let head { return head }
        let task: Task<Result<Int, GatewayError>, Never>
        if let opening {
            task = opening
        } else {
            task = Task { [history, roomID] in
                do throws(GatewayError) {
                    return .success(try await history.latestSeq(in: roomID, token: token))
                } catch {
                    return .failure(error)
                }
            }
            opening = task
        }
        switch await task.value {
        case .success(let newest):
            if head == nil {
                head = newest
                pending = pending.filter { $0.key > newest }
                drainPending()
                flushSoon()
                if hasGap { scheduleGapFill() }
            }
            return head ?? newest
        case .failure(let error):
            if opening == task { opening = nil }
            throw error
        }
    }

    private func scheduleGapFill() {
        guard gapFill == nil else { return }
        gapFill = Task { [reorderWait = settings.reorderWait] in
            try? await Task.sleep(for: reorderWait)
            await self.fillGaps()
        }
    }

    /// Whether the stream misses messages it heard of: held ones ahead of a gap, or newer ones not held.
    private var hasGap: Bool {
        guard let head else { return false }
        return !pending.isEmpty || highestSeen > head
    }

    /// Fetches what the live stream is missing, once for the room, then sends what waited.
    private func fillGaps() async {
        defer {
            gapFill = nil
            flushSoon()
        }
        while hasGap, let head {
            // Held messages that came before this read were committed before it began.
            let heldBeforeRead = held
            guard let page = await fetchForRoom(after: head) else {
                giveUpOnGap()
                return
            }
            var fetched = 0
            for message in page.data {
                guard let seq = message.seq, seq > self.head ?? seq else { continue }
                advance(Entry(seq: seq, frame: frame(for: message)))
                fetched += 1
            }
            metrics?.filledGap(messages: fetched)
            // What the fill brought goes out before the next page is awaited.
            flushSoon()
            if fetched > 0 { onMissedMessages?(roomID) }
            drainPending()
            if !page.hasMore {
                // History had everything committed when the read began: numbers still missing
                // before a message held by then were skipped for good (the room's row lock orders
                // the commits by sequence number), so the held ones go out. A message that came
                // during the read may have been committed after it began, the numbers before it
                // too: the next pass reads again.
                let heldByThen = pending.values.filter { $0.arrival <= heldBeforeRead }.map(\.seq)
                if let first = heldByThen.min(), let current = self.head, first > current + 1 {
                    self.head = first - 1
                    drainPending()
                }
                if pending.isEmpty {
                    highestSeen = min(highestSeen, self.head ?? highestSeen)
                    return
                }
            }
        }
    }

    /// One history page after `seq`, read with the token of a member of the room (the next member
    /// is tried when one is refused, e.g. a token that just expired).
    private func fetchForRoom(after seq: Int) async -> MessagePage? {
        var sessions = members.map(\.session)
        sessions += joining.values.map(\.session)
        for session in sessions.prefix(3) {
            do throws(GatewayError) {
                return try await history.messages(in: roomID, after: seq, token: session.token)
            } catch where error.code == ErrorCode.serviceUnavailable.rawValue {
                break
            } catch {
                continue
            }
        }
        return nil
    }

    /// The history could not be read: what waited goes out in order, across the gap, and the
    /// sockets are told that messages are missing (they can read them from history later).
    private func giveUpOnGap() {
        logger.warning("Missed messages unavailable", metadata: ["room.id": "\(roomID)", "stream.head": "\(head ?? 0)"])
        for seq in pending.keys.sorted() {
            guard let entry = pending.removeValue(forKey: seq), seq > head ?? 0 else { continue }
            advance(entry)
        }
        highestSeen = head ?? highestSeen
        // What was given goes out before the notice.
        flush(at: .now)
        let notice = PreparedEvent(.error(ErrorBody(code: ErrorCode.serviceUnavailable.rawValue, message: "Some messages could not be loaded")))
        for member in members { member.session.socket.emit(notice) }
    }

    // MARK: Encoding

    /// The message's `message:received` frame, encoded once.
    private func frame(for message: MessageDTO) -> PreparedEvent {
        PreparedEvent(.messageReceived(message), encoder: encoder)
    }
}
