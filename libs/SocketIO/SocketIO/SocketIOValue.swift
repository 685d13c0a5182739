import Foundation
import OrderedCollections

/// A value carried by a Socket.IO event or acknowledgement: JSON plus binary attachments.
///
/// Binary values travel as separate attachments on the wire; inside the JSON they are replaced by
/// `{"_placeholder":true,"num":N}` (see ``SocketIOPacket``).
///
/// ```swift
/// let args: [SocketIOValue] = ["hello", ["roomId": "42", "seq": 7], .binary([1, 2, 3])]
/// ```
public enum SocketIOValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([SocketIOValue])
    case object(OrderedDictionary<String, SocketIOValue>)
    case binary([UInt8])

    /// The string, when this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, when this is a whole number.
    public var intValue: Int? {
        switch self {
        case .int(let value): return Int(exactly: value)
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The boolean, when this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The members, in order, when this is an object.
    public var objectValue: OrderedDictionary<String, SocketIOValue>? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [SocketIOValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The member named `key`, when this is an object that has it.
    public subscript(key: String) -> SocketIOValue? {
        objectValue?[key]
    }

    /// Whether this value or anything inside it is binary.
    public var containsBinary: Bool {
        switch self {
        case .binary: return true
        case .array(let values): return values.contains { $0.containsBinary }
        case .object(let members): return members.values.contains { $0.containsBinary }
        default: return false
        }
    }
}

extension SocketIOValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: SocketIOValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, SocketIOValue)...) {
        self = .object(OrderedDictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension SocketIOValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([SocketIOValue].self) {
            self = .array(value)
        } else {
            let object = try decoder.container(keyedBy: MemberKey.self)
            var members = OrderedDictionary<String, SocketIOValue>()
            for key in object.allKeys {
                members[key.stringValue] = try object.decode(SocketIOValue.self, forKey: key)
            }
            self = .object(members)
        }
    }

    /// Encodes as JSON; binary values (which JSON cannot hold) encode as base64 strings. The
    /// packet encoder replaces them with attachment placeholders before encoding.
    public func encode(to encoder: any Encoder) throws {
        if case .object(let members) = self {
            var object = encoder.container(keyedBy: MemberKey.self)
            for (key, value) in members {
                try object.encode(value, forKey: MemberKey(stringValue: key))
            }
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        case .binary(let bytes): try container.encode(Data(bytes).base64EncodedString())
        case .object: break
        }
    }

    /// Any member name.
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension SocketIOValue {
    /// Converts any `Encodable` value (a DTO, say) into a value to emit.
    public init(encoding value: some Encodable, encoder: JSONEncoder = SocketIOValue.defaultEncoder) throws {
        let data = try encoder.encode(value)
        self = try JSONDecoder().decode(SocketIOValue.self, from: data)
    }

    /// Decodes this value into a `Decodable` type (an event payload, say).
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = SocketIOValue.defaultDecoder) throws -> T {
        try decoder.decode(T.self, from: try JSONEncoder().encode(self))
    }

    /// ISO 8601 dates, like the REST API.
    public static var defaultEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// ISO 8601 dates, like the REST API.
    public static var defaultDecoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
