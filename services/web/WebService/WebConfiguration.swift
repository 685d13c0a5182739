import VoiceFlowCommon

/// Settings of the web service, which serves the built browser client (it needs no database).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HOST` | 127.0.0.1 | listen address |
/// | `PORT` | 3004 | listen port |
/// | `WEB_ROOT` | web/dist | the folder `web/build.sh` writes |
/// | `HSTS_ENABLED` | true in production | send Strict-Transport-Security (the edge serves HTTPS) |
/// | `LOG_LEVEL` | info | |
public struct WebConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var root: String
    public var hstsEnabled: Bool
    public var logLevel: String

    /// Reads the configuration from the environment.
    public init(environment: EnvironmentReader = EnvironmentReader()) throws {
        let mode = try DeploymentMode(environment: environment)
        self.host = environment.string("HOST", default: "127.0.0.1")
        self.port = try environment.int("PORT", default: 3004, in: 0...65_535)
        self.root = environment.string("WEB_ROOT", default: "web/dist")
        self.hstsEnabled = try environment.bool("HSTS_ENABLED", default: mode == .production)
        self.logLevel = environment.string("LOG_LEVEL", default: "info")
    }
}
