import Foundation

/// Where uploaded bytes live. The database keeps the metadata; storage keeps the content by id.
protocol FileStorage: Sendable {
    /// Takes ownership of the complete upload at `temporary` and keeps it under `id`.
    func store(_ temporary: URL, id: UUID) async throws
    /// The local path of a stored file, for streaming it back.
    func path(for id: UUID) -> String
    /// Where a new upload is written while it streams in.
    func temporaryURL() throws -> URL
}

/// ``FileStorage`` on the local disk: one file per upload, named by its id.
struct LocalDiskStorage: FileStorage {
    let directory: URL

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: self.directory.appendingPathComponent("incoming"), withIntermediateDirectories: true)
    }

    func store(_ temporary: URL, id: UUID) async throws {
        try FileManager.default.moveItem(at: temporary, to: URL(fileURLWithPath: path(for: id)))
    }

    func path(for id: UUID) -> String {
        directory.appendingPathComponent(id.uuidString.lowercased()).path
    }

    func temporaryURL() throws -> URL {
        directory.appendingPathComponent("incoming").appendingPathComponent(UUID().uuidString)
    }
}
