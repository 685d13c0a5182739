import Synchronization

/// This node's rooms: which local socket is in which room, and delivery to them. Thread-safe.
/// Adapters build on it (``InMemoryAdapter`` alone; a multi-node adapter adds the other nodes).
public final class LocalRooms: Sendable {
    private struct Tables {
        var members: [String: [SocketID: Socket]] = [:]
        var roomsOfSocket: [SocketID: Set<String>] = [:]
        var sockets: [SocketID: Socket] = [:]
    }

    private let tables = Mutex(Tables())

    public init() {}

    /// Adds `socket` to `rooms`; returns the rooms that had no local member before.
    public func join(_ socket: Socket, rooms: [String]) -> [String] {
        tables.withLock { tables in
            var opened: [String] = []
            tables.sockets[socket.id] = socket
            for room in rooms {
                guard tables.roomsOfSocket[socket.id, default: []].insert(room).inserted else { continue }
                if tables.members[room] == nil { opened.append(room) }
                tables.members[room, default: [:]][socket.id] = socket
            }
            return opened
        }
    }

    /// Takes `socket` out of `rooms`; returns the rooms left with no local member.
    public func leave(_ socket: Socket, rooms: [String]) -> [String] {
        tables.withLock { tables in
            var emptied: [String] = []
            for room in rooms {
                guard tables.roomsOfSocket[socket.id]?.remove(room) != nil else { continue }
                tables.members[room]?[socket.id] = nil
                if tables.members[room]?.isEmpty == true {
                    tables.members[room] = nil
                    emptied.append(room)
                }
            }
            return emptied
        }
    }

    /// Takes `socket` out of every room; returns the rooms left with no local member.
    public func remove(_ socket: Socket) -> [String] {
        let rooms = tables.withLock { tables -> [String] in
            tables.sockets[socket.id] = nil
            return Array(tables.roomsOfSocket[socket.id] ?? [])
        }
        let emptied = leave(socket, rooms: rooms)
        tables.withLock { _ = $0.roomsOfSocket.removeValue(forKey: socket.id) }
        return emptied
    }

    public func rooms(of socket: Socket) -> Set<String> {
        tables.withLock { $0.roomsOfSocket[socket.id] ?? [] }
    }

    /// The local sockets selected by rooms and exclusions.
    public func sockets(in rooms: Set<String>, except: Set<String> = []) -> [Socket] {
        tables.withLock { tables in
            var excluded = Set<SocketID>()
            for room in except {
                if let members = tables.members[room] { excluded.formUnion(members.keys) }
            }
            if rooms.isEmpty {
                return tables.sockets.values.filter { !excluded.contains($0.id) }
            }
            var seen = Set<SocketID>()
            var selected: [Socket] = []
            for room in rooms {
                for (id, socket) in tables.members[room] ?? [:] where !excluded.contains(id) && seen.insert(id).inserted {
                    selected.append(socket)
                }
            }
            return selected
        }
    }

    /// Sends encoded messages to the selected local sockets, the same bytes to each.
    public func deliver(_ messages: [EngineData], rooms: Set<String>, except: Set<String>) {
        let prepared = messages.map(EnginePreparedMessage.init)
        for socket in sockets(in: rooms, except: except) {
            socket.sendPrepared(prepared)
        }
    }
}

/// The adapter of a single node: rooms and broadcasts in memory.
public final class InMemoryAdapter: SocketIOAdapter {
    let local = LocalRooms()

    public init() {}

    public func join(_ socket: Socket, rooms: [String]) async { _ = local.join(socket, rooms: rooms) }
    public func leave(_ socket: Socket, rooms: [String]) async { _ = local.leave(socket, rooms: rooms) }
    public func remove(_ socket: Socket) async { _ = local.remove(socket) }
    public func rooms(of socket: Socket) -> Set<String> { local.rooms(of: socket) }
    public func localSockets(in rooms: Set<String>) -> [Socket] { local.sockets(in: rooms) }

    public func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async {
        local.deliver(packet.encoded(), rooms: options.rooms, except: options.except)
    }
}
