import Foundation
import Testing
import VoiceFlowCommon

@testable import SignalingService

/// TURN credentials by coturn's REST scheme, and the settings they come from.
struct TurnCredentialsTests {
    @Test func credentialIsTheHMACOfTheUsername() {
        // Python: base64(hmac.new(b"north-wind-secret", username, hashlib.sha1).digest())
        let (username, credential) = TurnCredentials.credential(
            userID: "0b5e3c1a-8d2f-4e6b-9a7c-1f2e3d4c5b6a", expires: Date(timeIntervalSince1970: 1_767_225_600), secret: "north-wind-secret")
        #expect(username == "1767225600:0b5e3c1a-8d2f-4e6b-9a7c-1f2e3d4c5b6a")
        #expect(credential == "Z/qktO8DGEf/ZWXw1W7Mza9x7LE=")
    }

    @Test func iceServersAlwaysHaveSTUNAndTURNWhenASecretIsSet() throws {
        let settings = TurnSettings(
            secret: "north-wind-secret", turnURLs: ["turn:turn.example.com:3478?transport=udp"], stunURLs: ["stun:turn.example.com:3478"],
            credentialLifetime: .seconds(600))
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let servers = TurnCredentials(settings: settings).iceServers(for: "u1", now: now)
        #expect(servers.count == 2)
        #expect(servers[0] == IceServer(urls: ["stun:turn.example.com:3478"]))
        #expect(servers[1].urls == ["turn:turn.example.com:3478?transport=udp"])
        #expect(servers[1].username == "1700000600:u1")
        #expect(servers[1].credential == TurnCredentials.credential(userID: "u1", expires: now + 600, secret: "north-wind-secret").credential)

        let stunOnly = TurnCredentials(settings: TurnSettings(secret: nil, turnURLs: [], stunURLs: ["stun:127.0.0.1:3478"])).iceServers(for: "u1")
        #expect(stunOnly == [IceServer(urls: ["stun:127.0.0.1:3478"])])
    }

    @Test func stunURLsDefaultToTheTURNServers() throws {
        let configuration = try SignalingConfiguration(
            environment: EnvironmentReader([
                "TURN_SECRET": "north-wind-secret",
                "TURN_URLS": "turn:10.0.0.5:3478?transport=udp,turn:10.0.0.5:3478?transport=tcp,turns:turn.example.com:5349",
            ]))
        #expect(configuration.turn.stunURLs == ["stun:10.0.0.5:3478", "stun:turn.example.com:5349"])
        #expect(try SignalingConfiguration(environment: EnvironmentReader([:])).turn.stunURLs == ["stun:127.0.0.1:3478"])
        #expect(try SignalingConfiguration(environment: EnvironmentReader([:])).turn.turnURLs.isEmpty)
        #expect(throws: ConfigurationError.self) {
            try SignalingConfiguration(environment: EnvironmentReader(["TURN_URLS": "http://turn.example.com"]))
        }
    }

    @Test func productionRefusesToStartWithoutARealSecret() throws {
        let production = [
            "APP_ENV": "production", "DATABASE_URL": "postgresql://vf:a-real-password-1234@db:5432/vf", "REDIS_URL": "redis://:pw-long-enough@redis:6379",
            "JWT_PUBLIC_KEY": "unused", "TURN_URLS": "turn:turn.example.com:3478",
        ]
        func start(_ extra: [String: String]) throws {
            _ = try TurnSettings(environment: EnvironmentReader(production.merging(extra) { $1 }), mode: .production)
        }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "TURN_SECRET")) { try start([:]) }
        #expect(throws: ConfigurationError.placeholderSecretInProduction(key: "TURN_SECRET")) { try start(["TURN_SECRET": "change-me-turn"]) }
        #expect(throws: ConfigurationError.placeholderSecretInProduction(key: "TURN_SECRET")) { try start(["TURN_SECRET": "short"]) }
        #expect(throws: ConfigurationError.insecureDefaultInProduction(key: "TURN_URLS")) {
            _ = try TurnSettings(environment: EnvironmentReader(["TURN_SECRET": "4f1c9e0b7a2d6c58e3b1a9f0"]), mode: .production)
        }
        try start(["TURN_SECRET": "4f1c9e0b7a2d6c58e3b1a9f0"])
    }
}
