import VoiceFlowCommon
import VoiceFlowRedis

/// Brings this gateway's presence records in Redis back in line with its sockets, so that a Redis
/// call that failed during a connect, join, leave or disconnect does not leave presence wrong for
/// ever (a user shown online in a room they left, or missing from one they are in).
///
/// Each pass compares what Redis holds for this gateway with the sockets it really has. A
/// difference is acted on only when the previous pass saw it too: a socket in the middle of
/// connecting or leaving differs for a moment, and that is not drift.
actor PresenceReconciler {
    /// A socket of this gateway as it is: who, and which rooms it has open.
    struct LocalSocket: Sendable, Equatable {
        var userID: String
        var socketID: String
        var username: String
        var rooms: Set<String>
    }

    /// What a pass repaired, to be told to the rooms concerned.
    enum Repair: Sendable, Equatable {
        /// A socket gone from this gateway still had records: it was removed; `leftRooms` are the
        /// rooms the user now has no socket in.
        case removedSocket(userID: String, socketID: String, rooms: [String], leftRooms: [String])
        /// A socket had left `roomID` without the record following; `remaining` of the user's sockets are still in it.
        case leftRoom(userID: String, roomID: String, remaining: Int)
        /// A socket in `roomID` was not recorded there; `count` of the user's sockets are now in it.
        case joinedRoom(userID: String, username: String, roomID: String, count: Int)
        /// A socket of this gateway had no presence record: it was recorded online.
        case recordedSocket(userID: String, socketID: String)
    }

    private enum Difference: Hashable {
        case staleSocket(userID: String, socketID: String)
        case missingSocket(socketID: String)
        case staleRoom(socketID: String, roomID: String)
        case missingRoom(socketID: String, roomID: String)
    }

    let presence: PresenceStore
    private var suspects: Set<Difference> = []

    init(presence: PresenceStore) {
        self.presence = presence
    }

    /// One pass: finds the differences, repairs those seen on the previous pass too, and returns
    /// the repairs made.
    func reconcile(local sockets: [LocalSocket]) async throws(RedisError) -> [Repair] {
        let differences = try await differences(local: sockets)
        let confirmed = differences.intersection(suspects)
        suspects = differences.subtracting(confirmed)
        let byID = Dictionary(sockets.map { ($0.socketID, $0) }, uniquingKeysWith: { first, _ in first })
        var repairs: [Repair] = []
        for difference in confirmed {
            switch difference {
            case .staleSocket(let userID, let socketID):
                let rooms = try await presence.rooms(ofSocket: socketID)
                var left: [String] = []
                for roomID in rooms where try await presence.leave(roomID: roomID, userID: userID, socketID: socketID) == 0 {
                    left.append(roomID)
                }
                _ = try await presence.disconnect(userID: userID, socketID: socketID)
                repairs.append(.removedSocket(userID: userID, socketID: socketID, rooms: rooms, leftRooms: left))
            case .missingSocket(let socketID):
                guard let socket = byID[socketID] else { continue }
                try await presence.connect(userID: socket.userID, socketID: socketID)
                repairs.append(.recordedSocket(userID: socket.userID, socketID: socketID))
            case .staleRoom(let socketID, let roomID):
                guard let socket = byID[socketID] else { continue }
                let remaining = try await presence.leave(roomID: roomID, userID: socket.userID, socketID: socketID)
                repairs.append(.leftRoom(userID: socket.userID, roomID: roomID, remaining: remaining))
            case .missingRoom(let socketID, let roomID):
                guard let socket = byID[socketID] else { continue }
                let count = try await presence.join(roomID: roomID, userID: socket.userID, socketID: socketID)
                repairs.append(.joinedRoom(userID: socket.userID, username: socket.username, roomID: roomID, count: count))
            }
        }
        return repairs
    }

    private func differences(local sockets: [LocalSocket]) async throws(RedisError) -> Set<Difference> {
        var differences: Set<Difference> = []
        let localIDs = Set(sockets.map(\.socketID))
        for (userID, socketID) in try await presence.sockets(of: presence.gatewayID) where !localIDs.contains(socketID) {
            differences.insert(.staleSocket(userID: userID, socketID: socketID))
        }
        guard !sockets.isEmpty else { return differences }
        // One round trip for every local socket: is it recorded, and in which rooms.
        var commands: [[String]] = []
        for socket in sockets {
            commands.append(["HEXISTS", PresenceStore.userKey(socket.userID), socket.socketID])
            commands.append(["SMEMBERS", PresenceStore.roomsKey(socket.socketID)])
        }
        let replies = try await presence.redis.pipeline(commands)
        for (index, socket) in sockets.enumerated() {
            if replies[2 * index].int == 0 { differences.insert(.missingSocket(socketID: socket.socketID)) }
            let recorded = Set(replies[2 * index + 1].array?.compactMap(\.string) ?? [])
            for roomID in recorded.subtracting(socket.rooms) {
                differences.insert(.staleRoom(socketID: socket.socketID, roomID: roomID))
            }
            for roomID in socket.rooms.subtracting(recorded) {
                differences.insert(.missingRoom(socketID: socket.socketID, roomID: roomID))
            }
        }
        return differences
    }
}
