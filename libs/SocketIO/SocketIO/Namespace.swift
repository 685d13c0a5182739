import Synchronization

/// A Socket.IO namespace (`/`, `/custom`, ...): its middleware, connection handler, sockets and adapter.
public final class Namespace: Sendable {
    /// Runs before a socket joins; throw ``SocketIOConnectError`` to refuse it (other errors refuse
    /// it with a generic message).
    public typealias Middleware = @Sendable (Socket) async throws -> Void
    /// Runs when a socket joined; register its event handlers here.
    public typealias ConnectionHandler = @Sendable (Socket) async -> Void

    /// The name, starting with `/`.
    public let name: String
    /// Rooms and broadcasts of this namespace.
    public let adapter: any SocketIOAdapter
    let configuration: SocketIOConfiguration

    private struct State {
        var middlewares: [Middleware] = []
        var connectionHandler: ConnectionHandler?
        var sockets: [String: Socket] = [:]
        var eventHandlers: [String: Socket.EventHandler] = [:]
        var anyHandler: Socket.EventHandler?
    }

    private let state = Mutex(State())

    init(name: String, adapter: any SocketIOAdapter, configuration: SocketIOConfiguration) {
        self.name = name
        self.adapter = adapter
        self.configuration = configuration
    }

    /// Adds a middleware; they run in the order added.
    public func use(_ middleware: @escaping Middleware) {
        state.withLock { $0.middlewares.append(middleware) }
    }

    /// Sets the connection handler.
    public func onConnection(_ handler: @escaping ConnectionHandler) {
        state.withLock { $0.connectionHandler = handler }
    }

    /// Handles `event` from every socket of the namespace: one handler, set once, instead of one
    /// per socket. A socket's own handler for the event (``Socket/on(_:_:)``) comes first.
    public func on(_ event: String, _ handler: @escaping Socket.EventHandler) {
        state.withLock { $0.eventHandlers[event] = handler }
    }

    /// Handles, for every socket of the namespace, the events that have no handler of their own
    /// (neither the socket's nor the namespace's); the arguments start with the event name. A
    /// socket's own ``Socket/onAny(_:)`` comes first.
    public func onAny(_ handler: @escaping Socket.EventHandler) {
        state.withLock { $0.anyHandler = handler }
    }

    /// The namespace's handlers for `event`: its own, and the one for events without one.
    func handlers(for event: String) -> (specific: Socket.EventHandler?, any: Socket.EventHandler?) {
        state.withLock { ($0.eventHandlers[event], $0.anyHandler) }
    }

    /// This node's sockets in the namespace.
    public var localSockets: [Socket] { state.withLock { Array($0.sockets.values) } }

    /// This node's socket with `id`.
    public func socket(id: String) -> Socket? { state.withLock { $0.sockets[id] } }

    // MARK: Broadcasting

    /// A broadcast to `room`.
    public func to(_ room: String) -> BroadcastOperator { BroadcastOperator(namespace: self).to(room) }
    /// A broadcast to everyone but the sockets in `room`.
    public func except(_ room: String) -> BroadcastOperator { BroadcastOperator(namespace: self).except(room) }
    /// Sends `event` to every socket of the namespace, on every node.
    public func emit(_ event: String, _ arguments: [SocketIOValue] = []) async {
        await BroadcastOperator(namespace: self).emit(event, arguments)
    }

    // MARK: Joining

    func admit(_ socket: Socket) async throws(SocketIOConnectError) {
        let middlewares = state.withLock { $0.middlewares }
        for middleware in middlewares {
            do {
                try await middleware(socket)
            } catch let refusal as SocketIOConnectError {
                throw refusal
            } catch {
                throw SocketIOConnectError("Connection refused")
            }
        }
        state.withLock { $0.sockets[socket.id] = socket }
        await adapter.join(socket, rooms: [socket.id])
    }

    func connected(_ socket: Socket) async {
        let handler = state.withLock { $0.connectionHandler }
        await handler?(socket)
    }

    func unregister(_ socket: Socket) {
        state.withLock { _ = $0.sockets.removeValue(forKey: socket.id) }
    }
}

/// Chooses who receives an emit: `io.to("room").except(socket.id).emit("event", args)`.
public struct BroadcastOperator: Sendable {
    let namespace: Namespace
    var options = BroadcastOptions()

    /// Also sends to the sockets in `room`.
    public func to(_ room: String) -> BroadcastOperator {
        var copy = self
        copy.options.rooms.insert(room)
        return copy
    }

    /// Leaves out the sockets in `room` (or the socket with that id).
    public func except(_ room: String) -> BroadcastOperator {
        var copy = self
        copy.options.except.insert(room)
        return copy
    }

    /// Only this node's sockets.
    public var local: BroadcastOperator {
        var copy = self
        copy.options.local = true
        return copy
    }

    /// Sends `event` to the selected sockets, on every node.
    public func emit(_ event: String, _ arguments: [SocketIOValue] = []) async {
        await namespace.adapter.broadcast(.event(event, arguments, namespace: namespace.name), options: options)
    }

    /// This node's selected sockets.
    public var localSockets: [Socket] {
        namespace.adapter.localSockets(in: options.rooms).filter { socket in
            options.except.isEmpty || namespace.adapter.rooms(of: socket).isDisjoint(with: options.except)
        }
    }
}
