import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The wire shape of every error: `{"code","message","details"?}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// Stable machine-readable code.
    public var code: String
    /// Human-readable explanation.
    public var message: String
    /// Optional per-field problems.
    public var details: [String: String]?

    /// Creates the body of an error response.
    public init(code: String, message: String, details: [String: String]? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

extension APIError: HTTPResponseError {
    /// Renders the error as a JSON response: the single place errors become HTTP.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(code: code.rawValue, message: message, details: details)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(body)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: status,
            headers: fields,
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
