import PostgresNIO
import TestSupport
import Testing
@testable import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct MigrationRunnerTests {
    @Test func appliesEachMigrationOnceEvenWithConcurrentRunners() async throws {
        try await ScratchDatabase.with { configuration in
            try await ScratchDatabase.withClient(configuration) { client, logger in
                let migrations = try Migration.bundled()
                let runs = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for _ in 0..<3 {
                        group.addTask { try await MigrationRunner(client: client, logger: logger).run(migrations) }
                    }
                    return try await group.reduce(into: [[Int]]()) { $0.append($1) }
                }
                // Exactly one runner applied everything; the others found nothing left.
                #expect(runs.flatMap { $0 }.sorted() == migrations.map(\.version))
                #expect(runs.filter { !$0.isEmpty }.count == 1)

                let again = try await MigrationRunner(client: client, logger: logger).run(migrations)
                #expect(again.isEmpty)

                var tables: Set<String> = []
                for try await name in try await client.query(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'", logger: logger
                ).decode(String.self) {
                    tables.insert(name)
                }
                #expect(tables.isSuperset(of: ["users", "rooms", "room_users", "messages", "file_metadata", "refresh_tokens", "schema_migrations"]))
            }
        }
    }

    @Test func aFailingMigrationLeavesNoTrace() async throws {
        try await ScratchDatabase.with { configuration in
            try await ScratchDatabase.withClient(configuration) { client, logger in
                let broken = [
                    Migration(version: 1, name: "ok", sql: "CREATE TABLE kept (id INT)"),
                    Migration(version: 2, name: "broken", sql: "CREATE TABLE half (id INT); SELECT * FROM missing_table"),
                ]
                await #expect(throws: (any Error).self) {
                    try await MigrationRunner(client: client, logger: logger).run(broken)
                }
                var versions: [Int] = []
                for try await version in try await client.query("SELECT version FROM schema_migrations", logger: logger).decode(Int.self) {
                    versions.append(version)
                }
                #expect(versions == [1])
                let halfExists = try await client.query("SELECT to_regclass('half') IS NOT NULL", logger: logger)
                for try await exists in halfExists.decode(Bool.self) { #expect(exists == false) }
            }
        }
    }
}
