import Foundation
import NIOSSL
import PostgresNIO

/// PostgreSQL settings parsed from a `postgresql://user:password@host:port/database` URL.
///
/// TLS follows libpq's URL parameters: `?sslmode=disable|prefer|require|verify-ca|verify-full`
/// (default `prefer`, as libpq) and `sslrootcert=/path/ca.pem` (the CA that signed the server's
/// certificate; without it the system's trust store). `require` encrypts without checking who
/// answers; `verify-full` also checks the certificate chain and the host name, and is what a
/// database reached over any network you do not control needs.
///
/// ```swift
/// let database = try DatabaseConfiguration(url: "postgresql://app:secret@db:5432/voiceflow?sslmode=verify-full&sslrootcert=/run/secrets/db-ca.pem")
/// ```
public struct DatabaseConfiguration: Sendable, CustomStringConvertible {
    /// The local stack's URL, used when `DATABASE_URL` is unset.
    public static let localURL = "postgresql://voiceflow:voiceflow@127.0.0.1:5432/voiceflow"
    /// The local stack's password; production refuses it.
    static let localPassword = "voiceflow"

    /// How the connection uses TLS (libpq's `sslmode`).
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, else plain; the certificate is not checked.
        case prefer
        /// TLS or no connection; the certificate is not checked.
        case require
        /// TLS with the certificate chain checked against the CA, not the host name.
        case verifyCA = "verify-ca"
        /// TLS with the chain and the host name checked.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    /// Connections kept per process.
    public var maximumConnections: Int
    /// TLS use, from `sslmode`.
    public var sslMode: SSLMode
    /// The CA certificate file (PEM) that verifies the server, from `sslrootcert`.
    public var sslRootCertificate: String?

    /// Parses a `postgres://` or `postgresql://` URL, with optional `sslmode` and `sslrootcert`.
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
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let modes = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
        guard let mode = SSLMode(rawValue: query["sslmode"] ?? SSLMode.prefer.rawValue) else {
            throw .invalidValue(key: "DATABASE_URL", reason: "sslmode must be one of \(modes)")
        }
        self.sslMode = mode
        self.sslRootCertificate = query["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if let unknown = Set(query.keys).subtracting(["sslmode", "sslrootcert"]).sorted().first {
            throw .invalidValue(key: "DATABASE_URL", reason: "unknown parameter \(unknown) (sslmode and sslrootcert are understood)")
        }
        if let file = sslRootCertificate {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw .invalidValue(key: "DATABASE_URL", reason: "sslrootcert \(file) cannot be read")
            }
            guard mode == .verifyCA || mode == .verifyFull else {
                throw .invalidValue(key: "DATABASE_URL", reason: "sslrootcert needs sslmode=verify-ca or verify-full")
            }
        }
    }

    /// The TLS settings for PostgresNIO.
    var tls: PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable:
            return .disable
        case .prefer, .require:
            tls.certificateVerification = .none
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
        case .verifyFull:
            tls.certificateVerification = .fullVerification
        }
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        return sslMode == .prefer ? .prefer(tls) : .require(tls)
    }

    /// Connections the pool keeps open however idle (fewer when the pool is smaller).
    static let keptConnections = 2

    /// The configuration for PostgresNIO's pooled client.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectionIdleTimeout = .seconds(60)
        // A few connections are kept open for good, and no keep-alive query runs: the pool would
        // otherwise arm (and, at the next lease, cancel) an idle timer and a keep-alive timer
        // every time a connection goes back, a task and a timer per statement. A connection the
        // server closes (a restart) is noticed by its channel and replaced.
        configuration.options.minimumConnections = min(Self.keptConnections, maximumConnections - 1)
        configuration.options.keepAliveBehavior = nil
        return configuration
    }

    /// The same TLS settings for libpq tools (`pg_dump`, `pg_restore`): `PGSSLMODE`, `PGSSLROOTCERT`.
    public var libpqEnvironment: [String: String] {
        var environment = ["PGSSLMODE": sslMode.rawValue]
        if let sslRootCertificate { environment["PGSSLROOTCERT"] = sslRootCertificate }
        return environment
    }

    /// The location without credentials, safe to log.
    public var description: String { "postgresql://\(host):\(port)/\(database)" }
}
