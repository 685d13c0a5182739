import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension Request {
    /// Decodes a JSON body with the project's rules: `application/json` only (415), at most
    /// `context.maxUploadSize` bytes (413), valid JSON (400 `INVALID_JSON`) and the expected shape
    /// (400 `VALIDATION_FAILED`, naming the field).
    public func decodeJSON<Body: Decodable>(
        as type: Body.Type = Body.self,
        context: VoiceFlowRequestContext
    ) async throws(APIError) -> Body {
        guard let contentType = headers[.contentType], Self.isJSON(contentType) else {
            throw APIError.unsupportedMediaType
        }
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: context.maxUploadSize)
        } catch {
            throw APIError.payloadTooLarge(limit: context.maxUploadSize)
        }
        do {
            return try JSONDecoder().decode(Body.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Self.apiError(for: error)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalidJSON
        }
    }

    static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }

    static func apiError(for error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .validation("\(field) is required", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .validation("\(field) must not be null", field: field)
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            return .validation("\(field.isEmpty ? "body" : field) has the wrong type (expected \(Self.describe(expected)))", field: field.isEmpty ? "body" : field)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return .invalidJSON }
            let field = path(context.codingPath)
            return .validation("\(field) is invalid", field: field)
        @unknown default:
            return .invalidJSON
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Double.Type: "number"
        case is Bool.Type: "boolean"
        default: "object"
        }
    }
}

extension VoiceFlowRequestContext {
    /// The path parameter `name` as a UUID, or a 400 naming it.
    public func uuidParameter(_ name: String) throws(APIError) -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw APIError.validation("\(name) must be a UUID", field: name)
        }
        return id
    }
}
