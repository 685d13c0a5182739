import Foundation

/// Where and how to reach Redis.
///
/// ```swift
/// let configuration = try RedisConfiguration(url: "redis://:secret@127.0.0.1:6379/2")
/// ```
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user name (Redis 6+); `nil` authenticates as the default user.
    public var username: String?
    public var password: String?
    /// Database index selected on every connection.
    public var database: Int
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

    /// Parses `redis://[[username]:password@]host[:port][/db]`. TLS (`rediss://`) is not supported.
    public init(url: String) throws(RedisError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL("expected redis://[[user]:password@]host[:port][/db]")
        }
        guard scheme == "redis" else {
            throw .invalidURL(scheme == "rediss" ? "TLS (rediss://) is not supported" : "the scheme must be redis://")
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
    }

    /// The location without credentials, safe to log.
    public var description: String {
        "redis://\(host):\(port)/\(database)"
    }
}
