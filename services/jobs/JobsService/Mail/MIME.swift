import Foundation

/// The pieces of RFC 5322 / MIME rendering: ASCII headers with RFC 2047 encoded-words for
/// Unicode, RFC 5322 dates, and a text body in 7bit (plain ASCII) or base64.
enum MIME {
    /// An `unstructured` header value (Subject): as is when it is short printable ASCII,
    /// otherwise UTF-8 encoded-words folded over several lines.
    static func unstructured(_ text: String) -> String {
        if isPlainASCII(text) && text.utf8.count <= 900 && !text.contains("=?") {
            return text
        }
        return encodedWords(text).joined(separator: "\r\n ")
    }

    /// A mailbox for From/To: `address`, `Name <address>`, `"Name, Jr." <address>` or
    /// `=?UTF-8?B?...?= <address>`.
    static func mailbox(_ mailbox: MailAddress) -> String {
        guard let name = mailbox.displayName else { return mailbox.address }
        return "\(phrase(name)) <\(mailbox.address)>"
    }

    /// A display name: atoms as they are, other ASCII quoted, Unicode as encoded-words.
    static func phrase(_ text: String) -> String {
        guard isPlainASCII(text), !text.contains("=?") else {
            return encodedWords(text).joined(separator: "\r\n ")
        }
        let isAtoms = text.unicodeScalars.allSatisfy { atext.contains($0) || $0 == " " }
            && !text.hasPrefix(" ") && !text.hasSuffix(" ") && !text.contains("  ")
        if isAtoms { return text }
        let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    /// RFC 2047 `B` encoded-words of at most 75 characters, never splitting a character's bytes.
    static func encodedWords(_ text: String) -> [String] {
        // 45 bytes make 60 base64 characters: 72 with the `=?UTF-8?B?` and `?=` around them.
        let maximumChunk = 45
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > maximumChunk {
                words.append(encodedWord(chunk))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append(encodedWord(chunk))
        }
        return words
    }

    /// An RFC 5322 date in UTC: `Sat, 09 May 2026 07:35:25 +0000`.
    static func date(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let parts = calendar.dateComponents([.weekday, .day, .month, .year, .hour, .minute, .second], from: date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let day = days[((parts.weekday ?? 1) - 1) % 7]
        let month = months[((parts.month ?? 1) - 1) % 12]
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(day), \(two(parts.day)) \(month) \(parts.year ?? 1970) \(two(parts.hour)):\(two(parts.minute)):\(two(parts.second)) +0000"
    }

    /// The body with CRLF line endings: `7bit` when it is ASCII with lines of at most 998 bytes
    /// (readable, and dot-stuffed on the wire), otherwise base64 in lines of 76 characters.
    static func body(_ text: String) -> (transferEncoding: String, content: String) {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        let normalized = lines.joined(separator: "\r\n")
        let isSevenBit = normalized.utf8.allSatisfy { $0 < 0x80 && $0 != 0 } && lines.allSatisfy { $0.utf8.count <= 998 }
        if isSevenBit {
            return ("7bit", normalized.hasSuffix("\r\n") || normalized.isEmpty ? normalized : normalized + "\r\n")
        }
        let encoded = Data(normalized.utf8).base64EncodedString()
        var wrapped: [Substring] = []
        var start = encoded.startIndex
        while start < encoded.endIndex {
            let end = encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            wrapped.append(encoded[start..<end])
            start = end
        }
        return ("base64", wrapped.map { $0 + "\r\n" }.joined())
    }

    private static let atext = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".unicodeScalars)

    private static func isPlainASCII(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
    }

    private static func encodedWord(_ bytes: [UInt8]) -> String {
        "=?UTF-8?B?\(Data(bytes).base64EncodedString())?="
    }
}
