/// Reads the top level of a JSON object without decoding it: the raw bytes of each member's key
/// and the byte range of its value. Every value is checked to be well-formed JSON as it is
/// skipped (strings with their escapes, numbers, literals, nested objects and arrays), so a range
/// it returns can be passed on as JSON text as it is.
///
/// ```swift
/// let members = JSONObjectScanner.members(of: Array(#"{"seq":7,"content":"hi"}"#.utf8))
/// // [(key: "seq", value: 7..<8), (key: "content", value: 17..<21)]
/// ```
public enum JSONObjectScanner {
    /// One member of an object: its key as written (escapes not resolved) and where its value is.
    public struct Member: Sendable, Equatable {
        public let key: ArraySlice<UInt8>
        public let value: Range<Int>
    }

    /// Nesting deeper than this is refused.
    public static let maxDepth = 64

    /// The members of the object that `bytes[range]` holds (whitespace around it allowed), or
    /// `nil` when it is not exactly one well-formed JSON object.
    public static func members(of bytes: [UInt8], in range: Range<Int>? = nil) -> [Member]? {
        var cursor = Cursor(bytes: bytes, range: range ?? bytes.indices)
        cursor.skipWhitespace()
        guard let members = cursor.object(depth: 0) else { return nil }
        cursor.skipWhitespace()
        return cursor.atEnd ? members : nil
    }

    /// The value of `key` in `members`, if it is there.
    public static func value(of key: String, in members: [Member]) -> Range<Int>? {
        let wanted = Array(key.utf8)
        return members.first { $0.key.elementsEqual(wanted) }?.value
    }

    private struct Cursor {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        init(bytes: [UInt8], range: Range<Int>) {
            self.bytes = bytes
            self.position = range.lowerBound
            self.end = range.upperBound
        }

        var atEnd: Bool { position >= end }

        func peek() -> UInt8? { position < end ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            position += 1
            return true
        }

        /// An object at `position`, with its members' key and value ranges.
        mutating func object(depth: Int) -> [Member]? {
            guard depth < JSONObjectScanner.maxDepth, consume(UInt8(ascii: "{")) else { return nil }
            var members: [Member] = []
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return members }
            while true {
                skipWhitespace()
                let keyStart = position + 1
                guard string() else { return nil }
                let key = bytes[keyStart..<(position - 1)]
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                let valueStart = position
                guard value(depth: depth + 1) else { return nil }
                members.append(Member(key: key, value: valueStart..<position))
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "}")) ? members : nil
            }
        }

        mutating func value(depth: Int) -> Bool {
            guard let byte = peek() else { return false }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth) != nil
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func array(depth: Int) -> Bool {
            guard depth < JSONObjectScanner.maxDepth, consume(UInt8(ascii: "[")) else { return false }
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            while true {
                skipWhitespace()
                guard value(depth: depth + 1) else { return false }
                skipWhitespace()
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]"))
            }
        }

        /// A string, escapes checked; `position` ends past its closing quote.
        mutating func string() -> Bool {
            guard consume(UInt8(ascii: "\"")) else { return false }
            while let byte = peek() {
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return true
                case UInt8(ascii: "\\"):
                    guard let escaped = peek() else { return false }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let hex = peek(), hex.isHexDigit else { return false }
                            position += 1
                        }
                    default:
                        return false
                    }
                case ..<0x20:
                    return false  // control characters must be escaped
                default:
                    continue
                }
            }
            return false
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard end - position >= length else { return false }
            let matches = word.withUTF8Buffer { expected in
                bytes[position..<(position + length)].elementsEqual(expected)
            }
            if matches { position += length }
            return matches
        }

        /// A number as JSON writes them: `-`? int frac? exp?
        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            if consume(UInt8(ascii: "0")) {
                // no leading zeros
            } else {
                guard digits() else { return false }
            }
            if consume(UInt8(ascii: ".")) {
                guard digits() else { return false }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more digits.
        mutating func digits() -> Bool {
            let start = position
            while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { position += 1 }
            return position > start
        }
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
