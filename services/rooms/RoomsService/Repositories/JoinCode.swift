import Foundation

/// Human-friendly join codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U),
/// compared case-insensitively. 29^8 ≈ 5·10^11 codes; collisions are retried on insert.
enum JoinCode {
    static let alphabet = Array("ABCDEFGHJKMNPQRSTVWXYZ23456789")
    static let length = 8

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The canonical (upper-case, trimmed) form of a code typed by a user, or `nil` if it cannot be one.
    static func normalized(_ text: String) -> String? {
        let code = text.trimmingCharacters(in: .whitespaces).uppercased()
        guard (4...20).contains(code.count), code.allSatisfy({ $0.isLetter || $0.isNumber }), code.allSatisfy(\.isASCII) else {
            return nil
        }
        return code
    }
}
