import Foundation
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import VoiceFlowCommon

extension TestResponse {
    /// The body decoded as `T` (ISO-8601 dates).
    public func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(buffer: body))
    }

    /// The body as the common error shape.
    public var errorBody: ErrorBody? {
        try? json(ErrorBody.self)
    }
}

extension ByteBuffer {
    /// A buffer holding the JSON encoding of `value`.
    public static func json(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONEncoder().encode(value))
    }
}
