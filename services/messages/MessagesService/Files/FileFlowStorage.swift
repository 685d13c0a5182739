import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import VoiceFlowCommon

/// Credentials of the FileFlow HTTP API (`FILEFLOW_API_URL`, `FILEFLOW_API_KEY`, `FILEFLOW_API_SECRET`).
public struct FileFlowSettings: Sendable {
    public var baseURL: String
    public var key: String
    public var secret: String

    /// The settings when all three variables are set; `nil` when none is; an error when only some are.
    public static func from(_ environment: EnvironmentReader) throws -> FileFlowSettings? {
        let url = environment.string("FILEFLOW_API_URL")
        let key = environment.string("FILEFLOW_API_KEY")
        let secret = environment.string("FILEFLOW_API_SECRET")
        switch (url, key, secret) {
        case (nil, nil, nil):
            return nil
        case (let url?, let key?, let secret?):
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") else {
                throw ConfigurationError.invalidValue(key: "FILEFLOW_API_URL", reason: "not an http(s) URL")
            }
            return FileFlowSettings(baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, key: key, secret: secret)
        default:
            throw ConfigurationError.invalidValue(key: "FILEFLOW_API_URL", reason: "set FILEFLOW_API_URL, FILEFLOW_API_KEY and FILEFLOW_API_SECRET together")
        }
    }
}

/// ``FileStorage`` on the FileFlow HTTP API (contract: docs/FILEFLOW.md).
///
/// Uploads still stream to a local temporary file first (so the size limit holds and nothing
/// half-received reaches FileFlow); the complete file is then sent with one signed `PUT`.
/// Downloads stream FileFlow's response straight through.
struct FileFlowStorage: FileStorage {
    let settings: FileFlowSettings
    let incoming: URL
    let client: HTTPClient

    init(settings: FileFlowSettings, incomingDirectory: String, client: HTTPClient = .shared) throws {
        self.settings = settings
        self.incoming = URL(fileURLWithPath: incomingDirectory, isDirectory: true)
        self.client = client
        try FileManager.default.createDirectory(at: incoming, withIntermediateDirectories: true)
    }

    func temporaryURL() throws -> URL {
        incoming.appendingPathComponent(UUID().uuidString)
    }

    func store(_ temporary: URL, id: UUID, mimeType: String, size: Int) async throws {
        defer { try? FileManager.default.removeItem(at: temporary) }
        let bytes = try Data(contentsOf: temporary)
        var request = signedRequest(method: .PUT, id: id, body: bytes)
        request.headers.add(name: "Content-Type", value: mimeType)
        request.body = .bytes(ByteBuffer(data: bytes))
        let response = try await client.execute(request, timeout: .seconds(60))
        guard (200..<300).contains(response.status.code) else {
            throw FileFlowError.rejected(status: Int(response.status.code))
        }
    }

    func content(of id: UUID, context: VoiceFlowRequestContext) async throws -> ResponseBody {
        let response = try await client.execute(signedRequest(method: .GET, id: id, body: Data()), timeout: .seconds(60))
        guard response.status == .ok else { throw FileFlowError.rejected(status: Int(response.status.code)) }
        return ResponseBody(asyncSequence: response.body)
    }

    /// A request with the key, timestamp and HMAC-SHA256 signature headers.
    func signedRequest(method: HTTPMethod, id: UUID, body: Data) -> HTTPClientRequest {
        let path = "/v1/files/\(id.lowercasedString)"
        var request = HTTPClientRequest(url: settings.baseURL + path)
        request.method = method
        let timestamp = String(Int(Date().timeIntervalSince1970))
        request.headers.add(name: "X-FileFlow-Key", value: settings.key)
        request.headers.add(name: "X-FileFlow-Timestamp", value: timestamp)
        request.headers.add(
            name: "X-FileFlow-Signature",
            value: Self.signature(secret: settings.secret, method: method.rawValue, path: path, timestamp: timestamp, body: body))
        return request
    }

    /// hex(HMAC-SHA256(secret, METHOD \n path \n timestamp \n hex(SHA-256(body)))).
    static func signature(secret: String, method: String, path: String, timestamp: String, body: Data) -> String {
        let bodyHash = SHA256.hash(data: body).lowercaseHex
        let message = "\(method)\n\(path)\n\(timestamp)\n\(bodyHash)"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.lowercaseHex
    }
}

/// FileFlow refused or failed a request.
enum FileFlowError: Error {
    case rejected(status: Int)
}
