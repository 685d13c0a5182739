import Foundation
import NIOCore
import VoiceFlowCommon

/// Streams the `file` part of a multipart/form-data body to disk, enforcing the size limits as bytes
/// arrive: an oversize upload is refused without ever being held whole, in memory or on disk.
///
/// Two limits hold: the `file` part's content (`limit`), and every byte of the body, whatever part
/// it belongs to, preamble and epilogue included (`bodyLimit`), so a chunked body of which only a
/// small part is the file cannot stream without end either.
final class MultipartUpload {
    /// What was received.
    struct Result {
        var fileName: String
        var mimeType: String
        var size: Int
        var location: URL
    }

    private let parser: MultipartStreamParser
    private let limit: Int
    private let bodyLimit: Int
    private let destination: URL
    private var headers: [String: String] = [:]
    private var handle: FileHandle?
    private var written = 0
    private var received = 0
    private var failure: APIError?
    private var result: Result?

    /// An upload of at most `limit` bytes of file in a body of at most `bodyLimit` bytes.
    init(boundary: String, limit: Int, bodyLimit: Int, destination: URL) {
        self.parser = MultipartStreamParser(boundary: boundary)
        self.limit = limit
        self.bodyLimit = max(limit, bodyLimit)
        self.destination = destination
    }

    /// The boundary of a `multipart/form-data` content type, if it is one.
    static func boundary(of contentType: String) -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for part in parts.dropFirst() where part.lowercased().hasPrefix("boundary=") {
            let value = part.dropFirst("boundary=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty || value.count > 70 ? nil : value
        }
        return nil
    }

    /// Feeds the next chunk of the body.
    func feed(_ buffer: ByteBuffer) throws(APIError) {
        received += buffer.readableBytes
        guard received <= bodyLimit else {
            discard()
            throw .payloadTooLarge(limit: bodyLimit)
        }
        do {
            try parser.feed(buffer.readableBytesView) { event in
                switch event {
                case .headers(let partHeaders): headers = partHeaders
                case .body(let bytes): receive(bytes)
                case .partEnd: completePart()
                }
            }
        } catch {
            discard()
            throw .validation("The multipart body is malformed", field: "file")
        }
        if let failure {
            discard()
            throw failure
        }
    }

    /// The received file, once the whole body was fed.
    func finish() throws(APIError) -> Result {
        try? handle?.close()
        handle = nil
        guard (try? parser.finish()) != nil else {
            discard()
            throw .validation("The multipart body ended before its closing boundary", field: "file")
        }
        guard let result else {
            discard()
            throw .validation("A part named file, with a file name, is required", field: "file")
        }
        return result
    }

    /// Removes whatever was written.
    func discard() {
        try? handle?.close()
        handle = nil
        try? FileManager.default.removeItem(at: destination)
    }

    private var isFilePart: Bool {
        guard result == nil, let disposition = headers["content-disposition"] else { return false }
        return Self.parameter("name", in: disposition) == "file" && Self.parameter("filename", in: disposition) != nil
    }

    private func receive(_ bytes: ArraySlice<UInt8>) {
        guard failure == nil, isFilePart else { return }
        written += bytes.count
        guard written <= limit else {
            failure = .payloadTooLarge(limit: limit)
            return
        }
        do {
            if handle == nil {
                guard FileManager.default.createFile(atPath: destination.path, contents: nil, attributes: [.posixPermissions: 0o600])
                else { throw APIError.internalError }
                handle = try FileHandle(forWritingTo: destination)
            }
            try handle?.write(contentsOf: bytes)
        } catch {
            failure = .internalError
        }
    }

    private func completePart() {
        defer { headers = [:] }
        guard failure == nil, isFilePart, let disposition = headers["content-disposition"] else { return }
        if handle == nil, !FileManager.default.createFile(atPath: destination.path, contents: nil, attributes: [.posixPermissions: 0o600]) {
            failure = .internalError
            return
        }
        result = Result(
            fileName: Self.parameter("filename", in: disposition) ?? "file",
            mimeType: (headers["content-type"] ?? "application/octet-stream").split(separator: ";")[0]
                .trimmingCharacters(in: .whitespaces).lowercased(),
            size: written, location: destination)
    }

    /// A `name="value"` parameter of a Content-Disposition header.
    static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pieces = part.split(separator: "=", maxSplits: 1)
            guard pieces.count == 2, pieces[0].lowercased() == name else { continue }
            return pieces[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    /// A file name safe to store and to send back: no path, no control or quoting characters,
    /// at most 255 characters; `file` when nothing is left.
    static func sanitizedFileName(_ raw: String) -> String {
        let base = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = base.unicodeScalars.filter { scalar in
            !CharacterSet.controlCharacters.contains(scalar) && !"\"<>|:*?".unicodeScalars.contains(scalar)
        }
        var name = String(String.UnicodeScalarView(cleaned)).trimmingCharacters(in: .whitespaces)
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.suffix(storedLength: 255)
        return name.isEmpty ? "file" : name
    }
}
