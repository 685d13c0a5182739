import Foundation
import Logging
import VoiceFlowCommon

/// Errors of backups and restores.
public enum BackupError: Error, CustomStringConvertible, Sendable {
    /// `pg_dump` or `pg_restore` could not be started (not installed, not on `PATH`).
    case toolUnavailable(String)
    /// The tool ran and failed; `output` is the end of what it wrote to stderr.
    case toolFailed(tool: String, status: Int32, output: String)
    /// The backup directory cannot be created or written.
    case directoryUnusable(String)
    /// The file to restore does not exist.
    case noSuchBackup(String)

    public var description: String {
        switch self {
        case .toolUnavailable(let tool): "\(tool) is not available (install the PostgreSQL client tools)"
        case .toolFailed(let tool, let status, let output): "\(tool) exited with status \(status): \(output)"
        case .directoryUnusable(let path): "the backup directory \(path) cannot be used"
        case .noSuchBackup(let path): "no backup at \(path)"
        }
    }
}

/// Database backups with `pg_dump` (custom format: compressed, restorable table by table) into a
/// directory, keeping the newest few, and restores with `pg_restore`.
///
/// A backup is written under a temporary name and renamed when complete, so the directory only
/// ever lists whole backups. Backups hold password hashes and every message, so they are private
/// from the first byte: the directory is made (or narrowed to) 0700, and the file is created 0600
/// by this process (`O_EXCL`) before `pg_dump` writes into it through its standard output. The
/// password reaches the tools through `PGPASSWORD`, never through their command line (which other
/// local users can read).
public struct DatabaseBackup: Sendable {
    public var database: DatabaseConfiguration
    public var directory: String
    /// Backups kept; older ones are deleted after each successful backup.
    public var keep: Int
    let logger: Logger
    /// `PATH` for the tools, when not the process's own (tests put wrappers first).
    var toolSearchPath: String?

    public static let fileExtension = "dump"

    public init(database: DatabaseConfiguration, directory: String, keep: Int, logger: Logger) {
        self.database = database
        self.directory = directory
        self.keep = max(1, keep)
        self.logger = logger
    }

    /// Writes a new backup; returns its path.
    @discardableResult
    public func backUp(now: Date = Date()) async throws -> String {
        try makePrivateDirectory()
        let name = "voiceflow-\(Self.timestamp(now)).\(Self.fileExtension)"
        let path = (directory as NSString).appendingPathComponent(name)
        let partial = path + ".partial"
        // Created here, 0600 whatever the umask, before pg_dump writes its first byte into it.
        let descriptor = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BackupError.directoryUnusable(directory) }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try await run(
                "pg_dump", ["--format=custom", "--no-owner", "--no-privileges"] + connectionArguments(database: database.database),
                standardOutput: output)
            guard fsync(descriptor) == 0 else { throw BackupError.directoryUnusable(directory) }
            try output.close()
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? output.close()
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
        let removed = try pruneOldBackups()
        logger.info("Database backed up", metadata: ["path": "\(path)", "removed": "\(removed.count)"])
        return path
    }

    /// Creates the backup directory 0700, or narrows an existing one (an image or a volume may have
    /// made it 0755) to 0700 when this user owns it.
    private func makePrivateDirectory() throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BackupError.directoryUnusable(directory)
        }
        let permissions = (try? manager.attributesOfItem(atPath: directory)[.posixPermissions] as? Int) ?? 0
        guard permissions & 0o077 != 0 else { return }
        if chmod(directory, 0o700) != 0 {
            // Not ours to change (a mount owned by another user): the files stay 0600 all the same.
            logger.warning("Backup directory is readable by others", metadata: ["path": "\(directory)"])
        }
    }

    /// Restores `file` into the database `target` (default: the configured one), which should be
    /// empty: everything is restored in one transaction, and the first error undoes it all.
    public func restore(_ file: String, into target: String? = nil) async throws {
        guard FileManager.default.fileExists(atPath: file) else { throw BackupError.noSuchBackup(file) }
        try await run(
            "pg_restore",
            ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
                + connectionArguments(database: target ?? database.database) + [file])
        logger.info("Database restored", metadata: ["file": "\(file)", "database": "\(target ?? database.database)"])
    }

    /// The backups in the directory, oldest first.
    public func backups() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix("voiceflow-") && $0.hasSuffix("." + Self.fileExtension) }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Deletes all but the newest `keep` backups; returns the deleted paths.
    func pruneOldBackups() throws -> [String] {
        let all = try backups()
        let excess = Array(all.dropLast(keep))
        for path in excess { try? FileManager.default.removeItem(atPath: path) }
        return excess
    }

    private func connectionArguments(database name: String) -> [String] {
        ["--host=\(database.host)", "--port=\(database.port)", "--username=\(database.username)", "--dbname=\(name)", "--no-password"]
    }

    /// `20261125T031500.123Z`: sorts by time, safe in file names.
    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        return formatter.string(from: date)
    }

    private func run(_ tool: String, _ arguments: [String], standardOutput: FileHandle? = nil) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = database.password ?? ""
        environment["PGCONNECT_TIMEOUT"] = "10"
        environment.merge(database.libpqEnvironment) { _, tls in tls }
        if let toolSearchPath { environment["PATH"] = toolSearchPath }
        process.environment = environment
        // stderr goes to a file, not a pipe: a chatty tool can never block on a full pipe.
        let errorsPath = NSTemporaryDirectory() + "voiceflow-\(tool)-\(UUID().uuidString).log"
        guard FileManager.default.createFile(atPath: errorsPath, contents: nil),
            let errors = FileHandle(forWritingAtPath: errorsPath)
        else { throw BackupError.directoryUnusable(NSTemporaryDirectory()) }
        defer {
            try? errors.close()
            try? FileManager.default.removeItem(atPath: errorsPath)
        }
        process.standardError = errors
        process.standardOutput = standardOutput ?? FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: BackupError.toolUnavailable(tool))
            }
        }
        let written = FileManager.default.contents(atPath: errorsPath) ?? Data()
        let output = String(decoding: written.suffix(2000), as: UTF8.self)
        // `env` answers 127 when the tool is not on PATH.
        if status == 127 { throw BackupError.toolUnavailable(tool) }
        guard status == 0 else {
            throw BackupError.toolFailed(tool: tool, status: status, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
