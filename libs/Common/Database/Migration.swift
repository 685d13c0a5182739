import Foundation

/// One versioned schema change: a SQL file named `NNNN_description.sql`.
public struct Migration: Sendable, Equatable {
    /// Strictly increasing version (the file's numeric prefix).
    public let version: Int
    /// The rest of the file name, for humans.
    public let name: String
    /// The SQL; several statements separated by semicolons.
    public let sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The migrations shipped with VoiceFlow, in version order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError.missingBundle
        }
        return try load(from: directory)
    }

    /// Loads every `NNNN_name.sql` in `directory`, sorted by version; duplicate versions are an error.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }
        var migrations: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let separator = stem.firstIndex(of: "_"), let version = Int(stem[..<separator]) else {
                throw MigrationError.badFileName(file)
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: separator)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw MigrationError.duplicateVersion(next.version)
        }
        return migrations
    }
}

/// Why migrations could not be loaded or applied.
public enum MigrationError: Error, Sendable, Equatable {
    case missingBundle
    case badFileName(String)
    case duplicateVersion(Int)
    case unterminatedSQL(version: Int)
}
