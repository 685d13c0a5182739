import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import VoiceFlowCommon
import VoiceFlowRedis

extension TestClientProtocol {
    /// Sends `body` as JSON with `user`'s bearer token (none when `nil`) and hands the response to `check`.
    @discardableResult
    public func call<Result>(
        _ method: HTTPRequest.Method, _ uri: String, as user: TestUsers.User?, json body: (any Encodable)? = nil,
        _ check: @escaping (TestResponse) async throws -> Result
    ) async throws -> Result {
        var headers: HTTPFields = [:]
        if let user { headers[.authorization] = "Bearer \(user.token)" }
        var buffer: ByteBuffer?
        if let body {
            headers[.contentType] = "application/json"
            buffer = try ByteBuffer.json(body)
        }
        return try await execute(uri: uri, method: method, headers: headers, body: buffer, testCallback: check)
    }
}

extension RedisSubscription {
    /// The next `count` room events published on this subscription.
    public func roomEvents(_ count: Int) async throws -> [RoomEvent] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var received: [RoomEvent] = []
        for await message in self {
            received.append(try decoder.decode(RoomEvent.self, from: Data(message.payload)))
            if received.count == count { break }
        }
        return received
    }
}
