import Logging
import PostgresNIO

/// Applies pending ``Migration``s, each once, in its own transaction, recorded in `schema_migrations`.
///
/// Safe when several processes start at once: the whole run holds a session-level advisory lock,
/// so a second process waits, then finds nothing left to do.
///
/// ```swift
/// let applied = try await MigrationRunner(client: postgres, logger: logger).run(Migration.bundled())
/// ```
public struct MigrationRunner: Sendable {
    /// The advisory lock key every VoiceFlow process agrees on ("VFMIGRAT" as bytes).
    static let lockKey: Int64 = 0x5646_4D49_4752_4154

    private let client: PostgresClient
    private let logger: Logger

    /// Creates a runner over a running `PostgresClient`.
    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Applies what is pending and returns the versions it applied.
    @discardableResult
    public func run(_ migrations: [Migration]) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await applyPending(migrations, on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func applyPending(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
              version INTEGER PRIMARY KEY,
              name TEXT NOT NULL,
              applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            logger: logger)
        var done = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int.self)
        {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in migrations where !done.contains(migration.version) {
            let statements: [String]
            do {
                statements = try SQLStatementSplitter.split(migration.sql)
            } catch {
                throw MigrationError.unterminatedSQL(version: migration.version)
            }
            try await connection.withTransaction(logger: logger) { transaction in
                for statement in statements {
                    try await transaction.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await transaction.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
            }
            logger.info(
                "Applied migration",
                metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
