import PostgresNIO

extension PSQLError {
    /// The constraint named by a unique-violation (SQLSTATE 23505), if this is one.
    public var uniqueViolationConstraint: String? {
        guard code == .server, serverInfo?[.sqlState] == "23505" else { return nil }
        return serverInfo?[.constraintName]
    }

    /// Whether PostgreSQL refused a value itself (SQLSTATE class 22, data exceptions such as a NUL
    /// character or an out-of-range number, or 23514, a check constraint): bad input, not a fault.
    public var isInvalidInput: Bool {
        guard code == .server, let state = serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state == "23514"
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
