/// The events a client sends over the Socket.IO connection (the gateway's side of the socket
/// protocol). The raw values are the wire names; never rename one.
public enum ClientEventName: String, Sendable, CaseIterable, Codable {
    case roomJoin = "room:join"
    case roomLeave = "room:leave"
    case messageSend = "message:send"
    case typingStart = "typing:start"
    case typingStop = "typing:stop"
    case presenceUpdate = "presence:update"
    case authRefresh = "auth:refresh"
    case voiceJoin = "voice:join"
    case voiceLeave = "voice:leave"
    case voiceSignal = "voice:signal"
    case voiceState = "voice:state"
    case voiceSpeaking = "voice:speaking"
}

/// The events the gateway sends to clients. The raw values are the wire names; never rename one.
public enum ServerEventName: String, Sendable, CaseIterable, Codable {
    case roomJoined = "room:joined"
    case userJoined = "room:user_joined"
    case userLeft = "room:user_left"
    case messageReceived = "message:received"
    case messageEdited = "message:edited"
    case messageDeleted = "message:deleted"
    case userTyping = "user:typing"
    case userStoppedTyping = "user:stopped_typing"
    case presenceChanged = "user:presence_changed"
    case memberJoined = "room:member_joined"
    case memberLeft = "room:member_left"
    case memberKicked = "room:member_kicked"
    case memberRoleChanged = "room:member_role_changed"
    case roomUpdated = "room:updated"
    case roomDeleted = "room:deleted"
    /// To the user concerned: they were kicked; their sockets leave the room.
    case kicked = "room:kicked"
    /// To the user concerned: they left (from another tab or over REST); their sockets leave the room.
    case left = "room:left"
    /// `{code, message}`: a failed event that asked for no acknowledgement, or a notice.
    case error = "error"
    case voiceUserJoined = "voice:user_joined"
    case voiceUserLeft = "voice:user_left"
    case voiceSignal = "voice:signal"
    case voiceStateChanged = "voice:state_changed"
    case voiceSpeaking = "voice:speaking"
}
