import VoiceFlowCommon

/// Upload settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MAX_UPLOAD_BYTES` | 26214400 (25 MiB) | largest file accepted; enforced while streaming, with the whole body bounded to this plus 64 KiB |
/// | `FILE_STORAGE_DIR` | .data/files | where the local disk storage keeps files |
/// | `FILE_ALLOWED_TYPES` | see ``defaultAllowedTypes`` | comma-separated MIME types accepted |
/// | `FILEFLOW_API_URL`, `FILEFLOW_API_KEY`, `FILEFLOW_API_SECRET` | unset | keep files on FileFlow (all three, or none) |
public struct FileSettings: Sendable {
    /// Types accepted unless `FILE_ALLOWED_TYPES` says otherwise.
    public static let defaultAllowedTypes: Set<String> = [
        "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "text/markdown",
        "audio/webm", "audio/ogg", "audio/mpeg", "audio/wav", "audio/mp4", "video/mp4", "video/webm", "application/zip",
    ]

    /// Room a multipart body may take beside the file itself: boundaries, part headers, small fields.
    public static let multipartOverheadBytes = 64 * 1024

    /// The largest file accepted.
    public var maximumBytes: Int
    /// The largest upload body accepted, every byte counted: the file plus ``multipartOverheadBytes``.
    public var maximumBodyBytes: Int { maximumBytes + Self.multipartOverheadBytes }
    /// Where the local disk storage keeps files.
    public var storageDirectory: String
    /// MIME types accepted.
    public var allowedTypes: Set<String>
    /// FileFlow credentials; when set, files are kept there instead of on the local disk.
    public var fileFlow: FileFlowSettings?

    /// Reads the settings.
    public init(environment: EnvironmentReader) throws {
        self.maximumBytes = try environment.int("MAX_UPLOAD_BYTES", default: 25 << 20, in: 1...(1 << 32))
        self.storageDirectory = environment.string("FILE_STORAGE_DIR", default: ".data/files")
        let listed = Set(environment.list("FILE_ALLOWED_TYPES").map { $0.lowercased() })
        self.allowedTypes = listed.isEmpty ? Self.defaultAllowedTypes : listed
        self.fileFlow = try FileFlowSettings.from(environment)
    }
}
