import VoiceFlowCommon

/// Settings of the signaling service: the shared ones (see ``ServiceConfiguration``) plus voice rooms and TURN.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `PORT` | 3005 | listen port |
/// | `VOICE_MAX_PARTICIPANTS` | 6 | sessions in one room's voice (a mesh: every peer sends to every other); past it, `VOICE_FULL` |
/// | `TURN_SECRET` | none | coturn's `static-auth-secret`; TURN credentials are minted with it (required in production) |
/// | `TURN_URLS` | none | comma-separated TURN URLs clients get with those credentials (`turn:host:3478?transport=udp,...`; required in production) |
/// | `STUN_URLS` | the TURN hosts as `stun:` URLs, else `stun:127.0.0.1:3478` | comma-separated STUN URLs (always given to clients) |
/// | `VOICE_TURN_TTL` | 3600 | seconds a TURN credential is valid |
/// | `VOICE_SWEEP_SECONDS` | 1 | how often sessions of dead gateways and of vanished sockets are looked for |
/// | `VOICE_GATEWAY_TIMEOUT_SECONDS` | 6 | a gateway whose last presence heartbeat is older than this (or than `PRESENCE_TTL_SECONDS`, if shorter) is dead: its voice sessions end |
/// | `PRESENCE_TTL_SECONDS` | 10 | the gateways' presence TTL (the same variable as theirs) |
public struct SignalingConfiguration: Sendable {
    /// Shared service settings.
    public var service: ServiceConfiguration
    public var maxParticipants: Int
    public var turn: TurnSettings
    public var sweepPeriod: Duration
    /// How long after its last heartbeat a gateway counts as dead.
    public var gatewayTimeout: Duration
    /// The presence TTL the gateways add to each heartbeat.
    public var presenceTTL: Duration

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        self.service = try ServiceConfiguration(environment: environment, defaultPort: 3005)
        self.maxParticipants = try environment.int("VOICE_MAX_PARTICIPANTS", default: 6, in: 2...64)
        self.turn = try TurnSettings(environment: environment, mode: service.mode)
        self.sweepPeriod = .seconds(try environment.int("VOICE_SWEEP_SECONDS", default: 1, in: 1...60))
        self.gatewayTimeout = .seconds(try environment.int("VOICE_GATEWAY_TIMEOUT_SECONDS", default: 6, in: 1...3600))
        self.presenceTTL = .seconds(try environment.int("PRESENCE_TTL_SECONDS", default: 10, in: 2...3600))
    }
}

/// Where clients find STUN and TURN, and how TURN credentials are minted.
public struct TurnSettings: Sendable {
    /// coturn's shared secret (`use-auth-secret`); no TURN entries without it.
    public var secret: String?
    public var turnURLs: [String]
    public var stunURLs: [String]
    public var credentialLifetime: Duration

    /// Settings given directly (tests).
    public init(secret: String?, turnURLs: [String], stunURLs: [String], credentialLifetime: Duration = .seconds(3600)) {
        self.secret = secret
        self.turnURLs = turnURLs
        self.stunURLs = stunURLs
        self.credentialLifetime = credentialLifetime
    }

    /// Reads `TURN_SECRET`, `TURN_URLS`, `STUN_URLS` and `VOICE_TURN_TTL`; production needs a real
    /// secret and at least one TURN URL (voice behind NAT fails without a relay).
    init(environment: EnvironmentReader, mode: DeploymentMode) throws {
        let secret = environment.string("TURN_SECRET").flatMap { $0.isEmpty ? nil : $0 }
        let turnURLs = environment.list("TURN_URLS")
        for url in turnURLs where !(url.hasPrefix("turn:") || url.hasPrefix("turns:")) {
            throw ConfigurationError.invalidValue(key: "TURN_URLS", reason: "\(url) is not a turn: or turns: URL")
        }
        var stunURLs = environment.list("STUN_URLS")
        for url in stunURLs where !url.hasPrefix("stun:") {
            throw ConfigurationError.invalidValue(key: "STUN_URLS", reason: "\(url) is not a stun: URL")
        }
        if stunURLs.isEmpty { stunURLs = Self.stunURLs(servedBy: turnURLs) }
        if mode == .production {
            guard let secret else { throw ConfigurationError.insecureDefaultInProduction(key: "TURN_SECRET") }
            if PlaceholderSecret.isPlaceholder(secret) || secret.utf8.count < 16 {
                throw ConfigurationError.placeholderSecretInProduction(key: "TURN_SECRET")
            }
            guard !turnURLs.isEmpty else { throw ConfigurationError.insecureDefaultInProduction(key: "TURN_URLS") }
        }
        self.init(
            secret: secret, turnURLs: secret == nil ? [] : turnURLs, stunURLs: stunURLs,
            credentialLifetime: .seconds(try environment.int("VOICE_TURN_TTL", default: 3600, in: 60...86_400)))
    }

    /// A TURN server answers STUN on the same address: `turn:host:port?transport=udp` → `stun:host:port`.
    static func stunURLs(servedBy turnURLs: [String]) -> [String] {
        var seen: [String] = []
        for url in turnURLs {
            let rest = url.drop { $0 != ":" }.dropFirst()
            let address = rest.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            let stun = "stun:" + address
            if !address.isEmpty, !seen.contains(stun) { seen.append(stun) }
        }
        return seen.isEmpty ? ["stun:127.0.0.1:3478"] : seen
    }
}
