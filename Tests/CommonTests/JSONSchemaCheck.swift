import Foundation
import VoiceFlowCommon

/// A JSON value, decoded strictly (a number is never a boolean), to check against a schema.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }

    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}

/// Checks JSON against the subset of JSON Schema (draft 7) that the socket protocol's AsyncAPI
/// document uses; `$ref`s resolve within `root`. A keyword outside that subset is itself reported,
/// so that the document cannot come to rely on a rule this check would silently skip.
struct JSONSchemaCheck {
    let root: JSONValue

    private static let annotations: Set<String> = ["description", "title"]
    private static let keywords: Set<String> = [
        "$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "oneOf",
        "format", "pattern", "minimum", "minLength",
    ]

    /// The schema at a local reference such as `#/components/schemas/RoomDTO`.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        var node: JSONValue? = root
        for part in reference.dropFirst(2).split(separator: "/") {
            node = node?[part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")]
        }
        return node
    }

    /// What is wrong with `value` (empty: it conforms).
    func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        guard let rules = schema.object else { return ["\(path): the schema is not an object"] }
        var found = rules.keys.filter { !Self.keywords.contains($0) && !Self.annotations.contains($0) }.map {
            "\(path): unsupported schema keyword \($0)"
        }
        if let reference = rules["$ref"]?.string {
            guard let target = resolve(reference) else { return found + ["\(path): unresolved \(reference)"] }
            return found + problems(value, target, at: path)  // draft 7: $ref's siblings do not apply
        }
        if let type = rules["type"] {
            let allowed = type.array?.compactMap(\.string) ?? [type.string].compactMap { $0 }
            if !allowed.contains(where: { Self.has(value, type: $0) }) { found.append("\(path): not of type \(allowed)") }
        }
        if let choices = rules["enum"]?.array, !choices.contains(value) { found.append("\(path): not one of the enum") }
        if let constant = rules["const"], constant != value { found.append("\(path): not the constant") }
        if let alternatives = rules["oneOf"]?.array {
            let matching = alternatives.filter { problems(value, $0, at: path).isEmpty }.count
            if matching != 1 { found.append("\(path): matches \(matching) of oneOf") }
        }
        switch value {
        case .object(let fields):
            let properties = rules["properties"]?.object ?? [:]
            for key in rules["required"]?.array?.compactMap(\.string) ?? [] where fields[key] == nil {
                found.append("\(path): required \(key) is missing")
            }
            for (key, field) in fields {
                if let property = properties[key] {
                    found += problems(field, property, at: "\(path).\(key)")
                } else if let additional = rules["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path): \(key) is not allowed")
                    } else if additional != .bool(true) {
                        found += problems(field, additional, at: "\(path).\(key)")
                    }
                }
            }
        case .array(let items):
            if let item = rules["items"] {
                for (index, element) in items.enumerated() { found += problems(element, item, at: "\(path)[\(index)]") }
            }
        case .string(let text):
            if let minimum = Self.number(rules["minLength"]), Double(text.unicodeScalars.count) < minimum {
                found.append("\(path): shorter than \(minimum)")
            }
            if let pattern = rules["pattern"]?.string {
                if let regex = try? Regex(pattern) {
                    if !text.contains(regex) { found.append("\(path): does not match \(pattern)") }
                } else {
                    found.append("\(path): unreadable pattern \(pattern)")
                }
            }
            switch rules["format"]?.string {
            case "uuid"?: if UUID(uuidString: text) == nil { found.append("\(path): not a uuid") }
            case "date-time"?: if WireDateCoding.parse(text) == nil { found.append("\(path): not a date-time") }
            case nil: break
            case let format?: found.append("\(path): unsupported format \(format)")
            }
        case .number(let number):
            if let minimum = Self.number(rules["minimum"]), number < minimum { found.append("\(path): below \(minimum)") }
        case .null, .bool:
            break
        }
        return found
    }

    private static func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value { return number }
        return nil
    }

    private static func has(_ value: JSONValue, type: String) -> Bool {
        switch (value, type) {
        case (.null, "null"), (.bool, "boolean"), (.number, "number"), (.string, "string"), (.array, "array"), (.object, "object"):
            return true
        case (.number(let number), "integer"):
            return number.rounded() == number
        default:
            return false
        }
    }
}
