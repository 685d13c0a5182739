import Foundation

/// TLS to Redis (`rediss://`).
public struct RedisTLS: Sendable, Equatable {
    /// The CA certificate file (PEM) that verifies the server; `nil`: the system's trust store.
    public var caFile: String?
    /// Whether the server's certificate chain and host name are checked (`ssl_cert_reqs=required`,
    /// the default); `false` encrypts without knowing who answers.
    public var verifiesServer: Bool

    public init(caFile: String? = nil, verifiesServer: Bool = true) {
        self.caFile = caFile
        self.verifiesServer = verifiesServer
    }
}

/// Where and how to reach Redis.
///
/// ```swift
/// let configuration = try RedisConfiguration(url: "redis://:secret@127.0.0.1:6379/2")
/// let overTLS = try RedisConfiguration(url: "rediss://:secret@redis.internal:6380/0?ssl_ca_certs=/run/secrets/redis-ca.pem")
/// ```
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user name (Redis 6+); `nil` authenticates as the default user.
    public var username: String?
    public var password: String?
    /// Database index selected on every connection.
    public var database: Int
    /// TLS settings; `nil` for plain TCP (`redis://`).
    public var tls: RedisTLS?
    /// Command connections kept by a ``RedisClient``.
    public var poolSize: Int = 4
    public var connectTimeout: Duration = .seconds(5)
    public var commandTimeout: Duration = .seconds(5)
    /// First wait after a failed connection; doubles up to ``reconnectMaxDelay``, with jitter.
    public var reconnectInitialDelay: Duration = .milliseconds(100)
    public var reconnectMaxDelay: Duration = .seconds(5)

    /// A configuration from its parts.
    public init(host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `redis://[[username]:password@]host[:port][/db]`, or `rediss://...` for TLS with
    /// the optional parameters `ssl_ca_certs=/path/ca.pem` (the CA that signed the server's
    /// certificate) and `ssl_cert_reqs=required|none` (as redis-py names them).
    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL("expected redis://[[user]:password@]host[:port][/db]")
        }
        guard scheme == "redis" || scheme == "rediss" else {
            throw .invalidURL("the scheme must be redis:// or rediss://")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        var tls: RedisTLS?
        if scheme == "rediss" {
            var settings = RedisTLS(caFile: query["ssl_ca_certs"].flatMap { $0.isEmpty ? nil : $0 })
            switch query["ssl_cert_reqs"]?.lowercased() ?? "required" {
            case "required": settings.verifiesServer = true
            case "none": settings.verifiesServer = false
            default: throw .invalidURL("ssl_cert_reqs must be required or none")
            }
            if let file = settings.caFile, !FileManager.default.isReadableFile(atPath: file) {
                throw .invalidURL("ssl_ca_certs \(file) cannot be read")
            }
            tls = settings
        }
        if let unknown = Set(query.keys).subtracting(scheme == "rediss" ? ["ssl_ca_certs", "ssl_cert_reqs"] : []).sorted().first {
            throw .invalidURL("unknown parameter \(unknown)")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidURL("the host is missing") }
        let path = components.path.drop(while: { $0 == "/" })
        var database = 0
        if !path.isEmpty {
            guard let index = Int(path), index >= 0 else { throw .invalidURL("the database must be a number") }
            database = index
        }
        if let port = components.port, !(1...65535).contains(port) { throw .invalidURL("the port is out of range") }
        let user = components.user.flatMap { $0.removingPercentEncoding }.flatMap { $0.isEmpty ? nil : $0 }
        let password = components.password.flatMap { $0.removingPercentEncoding }
        self.init(host: host, port: components.port ?? 6379, username: user, password: password, database: database)
        self.tls = tls
    }

    /// The location without credentials, safe to log.
    public var description: String {
        "\(tls == nil ? "redis" : "rediss")://\(host):\(port)/\(database)"
    }
}
