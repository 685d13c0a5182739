/// Who a broadcast reaches.
public struct BroadcastOptions: Sendable, Hashable {
    /// Sockets in any of these rooms; everyone in the namespace when empty.
    public var rooms: Set<String> = []
    /// Minus the sockets in any of these rooms (every socket is in a room named by its id).
    public var except: Set<String> = []
    /// Only this node's sockets (no fan-out to other nodes).
    public var local = false

    public init(rooms: Set<String> = [], except: Set<String> = [], local: Bool = false) {
        self.rooms = rooms
        self.except = except
        self.local = local
    }
}

/// Keeps which socket is in which room, and delivers broadcasts: on this node only
/// (``InMemoryAdapter``) or on every node (``RedisAdapter``). One adapter per namespace.
public protocol SocketIOAdapter: Sendable {
    /// Puts `socket` in `rooms`; once it returns, broadcasts to those rooms from any node reach it.
    func join(_ socket: Socket, rooms: [String]) async
    /// Takes `socket` out of `rooms`.
    func leave(_ socket: Socket, rooms: [String]) async
    /// Takes `socket` out of every room (it disconnected).
    func remove(_ socket: Socket) async
    /// The rooms `socket` is in.
    func rooms(of socket: Socket) -> Set<String>
    /// This node's sockets in any of `rooms` (all of them when empty).
    func localSockets(in rooms: Set<String>) -> [Socket]
    /// Sends an encoded packet to the sockets `options` select.
    func broadcast(_ packet: SocketIOPacket, options: BroadcastOptions) async
}

/// A socket's id, the key of every table of rooms.
typealias SocketID = String
