import Foundation
import Logging
import PostgresNIO
import VoiceFlowCommon

/// A throwaway PostgreSQL database on the test server, dropped afterwards.
///
/// ```swift
/// try await ScratchDatabase.with { configuration in ... }
/// ```
public enum ScratchDatabase {
    /// Creates a fresh database, passes its configuration to `body`, then drops it.
    public static func with<Result: Sendable>(
        _ body: @Sendable (DatabaseConfiguration) async throws -> Result
    ) async throws -> Result {
        let admin = try DatabaseConfiguration(url: TestEnvironment.databaseURL)
        let name = "vf_scratch_\(TestEnvironment.uniqueSuffix())"
        _ = try await withClient(admin) { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        var scratch = admin
        scratch.database = name
        do {
            let result = try await body(scratch)
            try await drop(name, admin: admin)
            return result
        } catch {
            try? await drop(name, admin: admin)
            throw error
        }
    }

    /// Runs `body` with a running client for `configuration`.
    public static func withClient<Result: Sendable>(
        _ configuration: DatabaseConfiguration,
        _ body: @Sendable (PostgresClient, Logger) async throws -> Result
    ) async throws -> Result {
        var logger = TestEnvironment.logger("postgres")
        logger.logLevel = .error  // the pool warns when leased before run() is scheduled: harmless here
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client, logger)
        }
    }

    private static func drop(_ name: String, admin: DatabaseConfiguration) async throws {
        _ = try await withClient(admin) { client, logger in
            try await client.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
        }
    }
}
