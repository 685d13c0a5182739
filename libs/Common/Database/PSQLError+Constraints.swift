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

extension PostgresTransactionError {
    /// The error that actually failed the transaction: the closure's, else the commit's or BEGIN's.
    public var underlyingError: (any Error)? {
        closureError ?? commitError ?? beginError
    }
}

/// `error` with a transaction wrapper removed, so callers can match what was thrown inside it.
public func unwrappingTransaction(_ error: any Error) -> any Error {
    (error as? PostgresTransactionError)?.underlyingError ?? error
}
