import Foundation
import Hummingbird
import NIOPosix
import VoiceFlowCommon

/// Where uploaded bytes live. The database keeps the metadata; storage keeps the content by id.
protocol FileStorage: Sendable {
    /// Where a new upload is written (locally) while it streams in.
    func temporaryURL() throws -> URL
    /// Takes ownership of the complete upload at `temporary` and keeps it under `id`.
    func store(_ temporary: URL, id: UUID, mimeType: String, size: Int) async throws
    /// The stored bytes of `id`, streamed.
    func content(of id: UUID, context: VoiceFlowRequestContext) async throws -> ResponseBody
}

/// ``FileStorage`` on the local disk: one file per upload, named by its id.
struct LocalDiskStorage: FileStorage {
    let directory: URL

    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        try FileManager.default.createDirectory(at: self.directory.appendingPathComponent("incoming"), withIntermediateDirectories: true)
    }

    func temporaryURL() throws -> URL {
        directory.appendingPathComponent("incoming").appendingPathComponent(UUID().uuidString)
    }

    func store(_ temporary: URL, id: UUID, mimeType: String, size: Int) async throws {
        try FileManager.default.moveItem(at: temporary, to: URL(fileURLWithPath: path(for: id)))
    }

    func content(of id: UUID, context: VoiceFlowRequestContext) async throws -> ResponseBody {
        try await FileIO(threadPool: .singleton).loadFile(path: path(for: id), context: context)
    }

    func path(for id: UUID) -> String {
        directory.appendingPathComponent(id.lowercasedString).path
    }
}
