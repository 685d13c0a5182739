import Foundation
import PostgresNIO
import TestSupport
import Testing
import VoiceFlowCommon

@testable import JobsService

/// Backups with the real `pg_dump` and `pg_restore` against the test PostgreSQL.
@Suite(.timeLimit(.minutes(3))) struct DatabaseBackupTests {
    static let tables = ["users", "rooms", "room_users", "messages", "messages_archive", "refresh_tokens", "schema_migrations"]

    static func rowCounts(_ client: PostgresClient, _ harness: SystemJobsTests.Harness) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables { counts[table] = try await harness.count("SELECT count(*)::int FROM \(table)") }
        return counts
    }

    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "voiceflow-backups-\(TestEnvironment.uniqueSuffix())"
    }

    @Test func aBackupRestoresIntoAFreshDatabaseWithTheSameRows() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await SystemJobsTests.withHarness { source in
            let (user, room) = try await source.makeRoom(daysIdle: 3)
            try await source.addMessages(250, to: room, by: user, daysOld: 1)
            _ = try await source.makeRoom(daysIdle: 0)
            let before = try await Self.rowCounts(source.client, source)
            #expect(before["messages"] == 250)

            let backup = DatabaseBackup(database: source.database, directory: directory, keep: 3, logger: source.logger)
            let path = try await backup.backUp()
            #expect(try backup.backups() == [path])
            let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".partial") })

            try await ScratchDatabase.with { target in
                try await backup.restore(path, into: target.database)
                try await ScratchDatabase.withClient(target) { client, logger in
                    try await Self.checkRestored(
                        SystemJobsTests.Harness(client: client, database: target, logger: logger), backup: backup, path: path, expected: before)
                }
            }
        }
    }

    static func checkRestored(_ restored: SystemJobsTests.Harness, backup: DatabaseBackup, path: String, expected: [String: Int]) async throws {
        #expect(try await Self.rowCounts(restored.client, restored) == expected)
        // The sequence counters came along, so the restored database numbers on without a clash.
        #expect(try await restored.count("SELECT max(last_message_seq)::int FROM rooms") == 250)
        // Restoring again into a database that is no longer empty fails as a whole and changes nothing.
        await #expect(throws: BackupError.self) { try await backup.restore(path, into: restored.database.database) }
        #expect(try await Self.rowCounts(restored.client, restored) == expected)
    }

    @Test func onlyTheNewestBackupsAreKept() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await ScratchDatabase.with { database in
            let backup = DatabaseBackup(database: database, directory: directory, keep: 2, logger: TestEnvironment.logger())
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            var paths: [String] = []
            for day in 0..<4 {
                paths.append(try await backup.backUp(now: start.addingTimeInterval(Double(day) * 86_400)))
            }
            #expect(try backup.backups() == Array(paths.suffix(2)))
            #expect(!FileManager.default.fileExists(atPath: paths[0]))
        }
    }

    @Test func failuresAreTypedAndLeaveNoPartialFile() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var missing = try DatabaseConfiguration(url: TestEnvironment.databaseURL)
        missing.database = "vf_does_not_exist_\(TestEnvironment.uniqueSuffix())"
        let backup = DatabaseBackup(database: missing, directory: directory, keep: 2, logger: TestEnvironment.logger())
        await #expect {
            try await backup.backUp()
        } throws: { error in
            guard case BackupError.toolFailed(let tool, _, let output) = error else { return false }
            return tool == "pg_dump" && output.contains("does not exist")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
        await #expect {
            try await backup.restore(directory + "/nothing.dump")
        } throws: { error in
            if case BackupError.noSuchBackup = error { return true }
            return false
        }
    }
}

extension DatabaseBackupTests {
    /// The dump is private from its first byte, in a directory only the service user can list,
    /// even when the directory was made 0755 beforehand (as the image does) and the umask is 022.
    @Test func backupsArePrivateFromTheFirstByte() async throws {
        let directory = Self.temporaryDirectory()
        let tools = Self.temporaryDirectory() + "-tools"
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: tools)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(atPath: tools, withIntermediateDirectories: true)
        // A pg_dump in front of the real one notes the mode of the file it is about to write (its
        // --file, or its standard output) before the real one writes a byte.
        let realDump = try #require(
            (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/pg_dump" }
                .first { FileManager.default.isExecutableFile(atPath: $0) })
        let modeFile = tools + "/mode"
        let wrapper = """
            #!/bin/sh
            target=/proc/self/fd/3
            for argument in "$@"; do
              case "$argument" in --file=*) target="${argument#--file=}"; umask 022; : > "$target" ;; esac
            done
            stat -L -c %a "$target" 3>&1 > '\(modeFile)'
            exec '\(realDump)' "$@"
            """
        #expect(FileManager.default.createFile(atPath: tools + "/pg_dump", contents: Data(wrapper.utf8), attributes: [.posixPermissions: 0o755]))

        try await SystemJobsTests.withHarness { source in
            var backup = DatabaseBackup(database: source.database, directory: directory, keep: 3, logger: source.logger)
            backup.toolSearchPath = tools + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let path = try await backup.backUp()
            let mode = try String(contentsOfFile: modeFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(mode == "600")
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            #expect(try FileManager.default.attributesOfItem(atPath: directory)[.posixPermissions] as? Int == 0o700)
            #expect(try backup.backups() == [path])
        }
    }
}
