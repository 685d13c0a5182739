/// Why a service refused its configuration at start-up.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A variable is set but cannot be parsed.
    case invalidValue(key: String, reason: String)
    /// Production mode is on and a secret still has its development default.
    case insecureDefaultInProduction(key: String)
    /// Production mode is on and a secret is still a placeholder (`change-me-...`) or a default.
    case placeholderSecretInProduction(key: String)

    public var description: String {
        switch self {
        case .invalidValue(let key, let reason):
            "Invalid value for \(key): \(reason)"
        case .insecureDefaultInProduction(let key):
            "\(key) must be set explicitly when APP_ENV=production"
        case .placeholderSecretInProduction(let key):
            "\(key) still holds a placeholder or default secret; set a long random one (e.g. openssl rand -hex 32) when APP_ENV=production"
        }
    }
}
