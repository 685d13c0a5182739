import PostgresNIO

extension PSQLError {
    /// The constraint named by a unique-violation (SQLSTATE 23505), if this is one.
    public var uniqueViolationConstraint: String? {
        guard code == .server, serverInfo?[.sqlState] == "23505" else { return nil }
        return serverInfo?[.constraintName]
    }

    /// Whether the database could not be reached (as opposed to refusing a statement).
    public var isConnectionFailure: Bool {
        code != .server
    }
}
