import Crypto
import Foundation
import VoiceFlowCommon

/// Mints time-limited TURN credentials by coturn's REST scheme (`use-auth-secret`): the username
/// is `"<expiry unix seconds>:<userId>"`, the credential `base64(HMAC-SHA1(secret, username))`.
/// coturn recomputes the HMAC with the same secret and refuses the credential after its expiry.
struct TurnCredentials: Sendable {
    let settings: TurnSettings

    /// The ICE servers for one user: the STUN entry always, then TURN with a fresh credential
    /// (when a secret is configured).
    func iceServers(for userID: String, now: Date = Date()) -> [IceServer] {
        var servers = [IceServer(urls: settings.stunURLs)]
        if let secret = settings.secret, !settings.turnURLs.isEmpty {
            let lifetime = TimeInterval(settings.credentialLifetime.wholeMilliseconds) / 1000
            let (username, credential) = Self.credential(userID: userID, expires: now.addingTimeInterval(lifetime), secret: secret)
            servers.append(IceServer(urls: settings.turnURLs, username: username, credential: credential))
        }
        return servers
    }

    /// The username and credential valid until `expires`.
    static func credential(userID: String, expires: Date, secret: String) -> (username: String, credential: String) {
        let username = "\(Int64(expires.timeIntervalSince1970)):\(userID)"
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(username.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return (username, Data(mac).base64EncodedString())
    }
}
