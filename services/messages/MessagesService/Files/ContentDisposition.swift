import Foundation

/// The `Content-Disposition` of a download: `attachment` with the file's name twice, as RFC 6266
/// recommends: `filename*` in RFC 8187's extended notation (UTF-8, every byte outside attr-char
/// percent-encoded) for clients that read it, and before it an ASCII-only quoted `filename` for
/// those that do not.
///
/// ```swift
/// ContentDisposition.attachment(fileName: "Café \"menu\".pdf")
/// // attachment; filename="Caf_ _menu_.pdf"; filename*=UTF-8''Caf%C3%A9%20%22menu%22.pdf
/// ```
enum ContentDisposition {
    /// The header value for downloading a file called `fileName`.
    static func attachment(fileName: String) -> String {
        "attachment; filename=\"\(asciiFallback(fileName))\"; filename*=UTF-8''\(extendedValue(fileName))"
    }

    /// RFC 8187 `attr-char`: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~".
    static func isAttrChar(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$&+-.^_`|~".utf8.contains(byte)
        }
    }

    /// `value`'s UTF-8 bytes with every byte that is not an attr-char written as `%XX` (upper-case hex).
    static func extendedValue(_ value: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            if isAttrChar(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "%"
                encoded += String(byte >> 4, radix: 16, uppercase: true)
                encoded += String(byte & 0x0F, radix: 16, uppercase: true)
            }
        }
        return encoded.isEmpty ? "file" : encoded
    }

    /// A stand-in name safe inside a quoted-string: printable ASCII only, with `"`, `\` and `%` (which
    /// some clients decode) and every other character replaced by `_`; `file` when nothing is left.
    static func asciiFallback(_ value: String) -> String {
        let scalars = value.unicodeScalars.map { scalar -> Character in
            let isSafe = scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F && !"\"\\%".unicodeScalars.contains(scalar)
            return isSafe ? Character(scalar) : "_"
        }
        let name = String(scalars).trimmingCharacters(in: .whitespaces)
        return name.isEmpty ? "file" : name
    }
}
