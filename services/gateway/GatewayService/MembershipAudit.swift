import Foundation
import VoiceFlowCommon

/// Who belongs to a room, as the rooms service says (asked with a member's token).
protocol RoomDirectory: Sendable {
    /// The room with its participants; `FORBIDDEN`/`NOT_FOUND` when the token's user is not a
    /// member (or the room is gone).
    func room(_ roomID: String, token: String) async throws(GatewayError) -> RoomDTO
}

extension Upstream: RoomDirectory {}

/// Re-checks that the sockets holding a room open on this gateway still belong to its members, so
/// that a membership change whose event was lost (Redis dropped the connection, a publish failed)
/// cannot leave a socket in a room for ever.
///
/// The relay runs it for every open room every ``period``, and for a room soon after its stream
/// had to fetch missed messages (events may have been missed with them); a room is not checked
/// again within ``minimumInterval``. One call to the rooms service per room: the participants as
/// seen with one member's token. A user whose own token is refused there is no member either.
actor MembershipAudit {
    /// The outcome for one room.
    struct Verdict: Sendable, Equatable {
        /// Users whose sockets must leave the room.
        var notMembers: Set<String>
        /// Whether the room could be checked at all (false: the rooms service was unavailable).
        var checked: Bool
    }

    let directory: any RoomDirectory
    let period: Duration
    let minimumInterval: Duration
    /// Tokens tried per room and pass before giving up until the next pass.
    let attempts = 3
    private var lastChecked: [String: ContinuousClock.Instant] = [:]

    init(directory: any RoomDirectory, period: Duration, minimumInterval: Duration = .seconds(5)) {
        self.directory = directory
        self.period = period
        self.minimumInterval = minimumInterval
    }

    /// Whether `roomID` is due for a check now (and marks it checked if so).
    func claim(_ roomID: String) -> Bool {
        let now = ContinuousClock.now
        if let last = lastChecked[roomID], now - last < minimumInterval { return false }
        lastChecked[roomID] = now
        return true
    }

    /// Forgets rooms no longer open here.
    func retain(only open: Set<String>) {
        lastChecked = lastChecked.filter { open.contains($0.key) }
    }

    /// Checks the users holding `roomID` open (with one of their tokens each).
    func check(_ roomID: String, holders: [(userID: String, token: String)]) async -> Verdict {
        var notMembers: Set<String> = []
        var tried = 0
        for holder in holders where !notMembers.contains(holder.userID) {
            guard tried < attempts else { break }
            tried += 1
            do {
                let room = try await directory.room(roomID, token: holder.token)
                let members = Set((room.participants ?? []).map(\.userId))
                notMembers.formUnion(Set(holders.map(\.userID)).subtracting(members))
                return Verdict(notMembers: notMembers, checked: true)
            } catch {
                switch error.code {
                case ErrorCode.forbidden.rawValue, ErrorCode.notFound.rawValue:
                    notMembers.insert(holder.userID)
                default:
                    // Unavailable, or this token just expired: ask with the next holder's, or next pass.
                    continue
                }
            }
        }
        return Verdict(notMembers: notMembers, checked: !notMembers.isEmpty)
    }
}
