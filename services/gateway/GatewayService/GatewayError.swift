import VoiceFlowCommon
import VoiceFlowSocketIO

/// What a socket event can fail with; sent as the ack `{error: {code, message}}` or as the
/// `error` event `{code, message}`. Codes are the REST API's.
struct GatewayError: Error, Sendable {
    var code: String
    var message: String

    static func validation(_ message: String) -> GatewayError { GatewayError(code: ErrorCode.validationFailed.rawValue, message: message) }
    static let notJoined = GatewayError(code: ErrorCode.forbidden.rawValue, message: "Join the room first")
    static let rateLimited = GatewayError(code: ErrorCode.rateLimited.rawValue, message: "Too many events, slow down")
    static let voiceNotJoined = GatewayError(code: ErrorCode.voiceNotJoined.rawValue, message: "Join the room's voice first")
    static let voicePeerUnknown = GatewayError(
        code: ErrorCode.voicePeerUnknown.rawValue, message: "No such session in your voice room")
    static let unavailable = GatewayError(code: ErrorCode.serviceUnavailable.rawValue, message: "Service temporarily unavailable")

    /// `{code, message}`, the `error` event's payload.
    var body: ErrorBody { ErrorBody(code: code, message: message) }

    /// The ack of a failed event: `{error: {code, message}}` (``AckFailure``).
    var ack: SocketIOValue { (try? SocketIOValue(encoding: AckFailure(body))) ?? .null }
}
