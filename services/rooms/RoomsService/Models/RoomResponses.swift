import Foundation
import Hummingbird
import VoiceFlowCommon

/// `GET /api/v1/rooms`: `{data, total, page, limit, hasMore}`.
struct RoomPage: ResponseEncodable {
    var data: [RoomDTO]
    var total: Int
    var page: Int
    var limit: Int
    var hasMore: Bool
}

/// `POST /api/v1/rooms/:code/join`.
struct JoinResponse: ResponseEncodable {
    var roomId: String
    var participants: [MemberDTO]
}

/// A join request waiting for an admin (202 from join, and the request list).
struct JoinRequestDTO: ResponseEncodable {
    var id: String
    var roomId: String
    var userId: String
    var username: String
    var status: String
    var createdAt: Date
}

/// `{members: [...]}`.
struct MembersResponse: ResponseEncodable {
    var members: [MemberDTO]
}

/// `{requests: [...]}`.
struct JoinRequestsResponse: ResponseEncodable {
    var requests: [JoinRequestDTO]
}
