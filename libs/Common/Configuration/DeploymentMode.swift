/// Whether a service runs for development, tests or production.
///
/// Production refuses development defaults for secrets and turns on stricter behaviour.
public enum DeploymentMode: String, Sendable {
    case development
    case test
    case production

    /// Reads `APP_ENV`, falling back to the guide's `NODE_ENV`; development when neither is set.
    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        let raw = (environment.string("APP_ENV") ?? environment.string("NODE_ENV") ?? "development").lowercased()
        switch raw {
        case "development", "dev", "local": self = .development
        case "test", "testing", "ci": self = .test
        case "production", "prod": self = .production
        default: throw .invalidValue(key: "APP_ENV", reason: "use development, test or production")
        }
    }
}
