import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VoiceFlowCommon

/// Where a socket's missed messages come from.
protocol MessageHistory: Sendable {
    /// Messages after `seq`, oldest first (a page).
    func messages(in roomID: String, after seq: Int, token: String) async throws(GatewayError) -> MessagePage
    /// The newest message's sequence number (0 when the room has none).
    func latestSeq(in roomID: String, token: String) async throws(GatewayError) -> Int
}

/// Calls the rooms and messages services on behalf of a socket's user (with the user's token, so
/// those services apply their own membership and permission rules).
struct Upstream: MessageHistory {
    let http: HTTPClient
    let roomsURL: String
    let messagesURL: String
    let signalingURL: String
    let logger: Logger
    static let timeout: TimeAmount = .seconds(10)

    /// The room with its participants; fails with `FORBIDDEN`/`NOT_FOUND` for non-members.
    func room(_ roomID: String, token: String) async throws(GatewayError) -> RoomDTO {
        try await call(.GET, roomsURL + "/api/v1/rooms/\(roomID)", token: token)
    }

    /// Stores a message; the messages service publishes it to the room.
    func send(_ body: SendMessageBody, token: String) async throws(GatewayError) -> MessageDTO {
        try await call(.POST, messagesURL + "/api/v1/messages", token: token, body: body)
    }

    /// Messages after `seq`, oldest first.
    func messages(in roomID: String, after seq: Int, token: String) async throws(GatewayError) -> MessagePage {
        try await call(.GET, messagesURL + "/api/v1/rooms/\(roomID)/messages?after=\(seq)&limit=100", token: token)
    }

    /// The newest message's sequence number (0 when the room has none).
    func latestSeq(in roomID: String, token: String) async throws(GatewayError) -> Int {
        let page: MessagePage = try await call(.GET, messagesURL + "/api/v1/rooms/\(roomID)/messages?limit=1", token: token)
        return page.data.first?.seq ?? 0
    }

    // MARK: Voice (the signaling service's internal routes)

    /// Starts the user's voice session in a room for one of this gateway's sockets.
    func startVoice(_ start: VoiceSessionStart, token: String) async throws(GatewayError) -> VoiceSessionStarted {
        try await call(.POST, signalingURL + "/internal/v1/voice/sessions", token: token, body: start)
    }

    /// Ends one of the user's voice sessions; nil when it had ended already.
    func endVoice(_ sessionID: String, reason: VoiceLeaveReason, token: String) async throws(GatewayError) -> VoiceSession? {
        try await absentOn404 { () async throws(GatewayError) -> VoiceSession in
            try await call(.POST, signalingURL + "/internal/v1/voice/sessions/\(sessionID)/end", token: token, body: VoiceSessionEnd(reason: reason))
        }
    }

    /// Changes one of the user's voice sessions; nil when it has ended.
    func updateVoice(_ sessionID: String, _ update: VoiceSessionUpdate, token: String) async throws(GatewayError) -> VoiceSession? {
        try await absentOn404 { () async throws(GatewayError) -> VoiceSession in
            try await call(.PATCH, signalingURL + "/internal/v1/voice/sessions/\(sessionID)", token: token, body: update)
        }
    }

    /// A session of the user's voice room (or the user's own); nil when there is none such.
    func voiceSession(_ sessionID: String, token: String) async throws(GatewayError) -> VoiceSession? {
        try await absentOn404 { () async throws(GatewayError) -> VoiceSession in
            try await call(.GET, signalingURL + "/internal/v1/voice/sessions/\(sessionID)", token: token)
        }
    }

    private func absentOn404<Value>(_ body: () async throws(GatewayError) -> Value) async throws(GatewayError) -> Value? {
        do {
            return try await body()
        } catch where error.code == ErrorCode.notFound.rawValue {
            return nil
        }
    }

    private func call<Response: Decodable>(
        _ method: HTTPMethod, _ url: String, token: String, body: (some Encodable)? = String?.none
    ) async throws(GatewayError) -> Response {
        do {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Accept", value: "application/json")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
            }
            let response = try await http.execute(request, timeout: Self.timeout)
            let bytes = try await response.body.collect(upTo: 4 * 1024 * 1024)
            let decoder = WireDateCoding.decoder()
            guard (200..<300).contains(response.status.code) else {
                if response.status.code < 500, let error = try? decoder.decode(ErrorBody.self, from: Data(bytes.readableBytesView)) {
                    throw GatewayError(code: error.code, message: error.message)
                }
                logger.warning("Upstream failed", metadata: ["http.url": "\(url)", "http.status": "\(response.status.code)"])
                throw GatewayError.unavailable
            }
            return try decoder.decode(Response.self, from: Data(bytes.readableBytesView))
        } catch let error as GatewayError {
            throw error
        } catch {
            logger.warning("Upstream unreachable", metadata: ["http.url": "\(url)", "error.type": "\(type(of: error))"])
            throw GatewayError.unavailable
        }
    }
}
