import Foundation
import PostgresNIO

/// PostgreSQL settings parsed from a `postgresql://user:password@host:port/database` URL.
public struct DatabaseConfiguration: Sendable, CustomStringConvertible {
    /// The local stack's URL, used when `DATABASE_URL` is unset.
    public static let localURL = "postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow"
    /// The local stack's password; production refuses it.
    static let localPassword = "voiceflow"

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Connections kept per process.
    public var maximumConnections: Int

    /// Parses a `postgres://` or `postgresql://` URL.
    public init(url: String, maximumConnections: Int = 10) throws(ConfigurationError) {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme),
            let host = components.host, !host.isEmpty
        else {
            throw .invalidValue(key: "DATABASE_URL", reason: "expected postgresql://user:password@host:port/database")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw .invalidValue(key: "DATABASE_URL", reason: "the database name is missing")
        }
        self.host = host
        self.port = components.port ?? 5432
        self.username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = components.password.flatMap { $0.removingPercentEncoding }
        self.database = database
        self.maximumConnections = maximumConnections
    }

    /// The configuration for PostgresNIO's pooled client.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: .disable)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectionIdleTimeout = .seconds(60)
        return configuration
    }

    /// The location without credentials, safe to log.
    public var description: String { "postgresql://\(host):\(port)/\(database)" }
}
