import Foundation
import VoiceFlowCommon

/// The rules for user names, e-mail addresses, passwords and avatar URLs, with their error messages.
enum CredentialRules {
    static let usernameLength = 3...20
    static let minimumPasswordLength = 8
    /// bcrypt reads at most 72 bytes; longer passwords are refused rather than silently truncated.
    static let maximumPasswordBytes = 72
    static let maximumEmailLength = 255
    static let maximumAvatarURLLength = 255

    /// A problem with `username`, if any.
    static func usernameProblem(_ username: String) -> String? {
        let valid = usernameLength.contains(username.count)
            && username.unicodeScalars.allSatisfy { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        return valid ? nil : "username must be 3-20 characters: letters, digits or underscores"
    }

    /// A problem with `email` (already trimmed and lowercased), if any.
    static func emailProblem(_ email: String) -> String? {
        let message = "email must be a valid address"
        guard email.storedLength <= maximumEmailLength, !email.contains(where: { $0.isWhitespace }) else { return message }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].storedLength <= 64 else { return message }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
            parts[1].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
        else { return message }
        return nil
    }

    /// A problem with `password`'s length in characters (code points, as the API description counts), if any.
    static func passwordProblem(_ password: String) -> String? {
        if password.storedLength < minimumPasswordLength { return "password must be at least 8 characters" }
        if password.storedLength > maximumPasswordBytes { return "password must be at most 72 bytes" }
        return nil
    }

    /// A problem with `password`'s length in bytes (what bcrypt reads), if any.
    static func passwordByteProblem(_ password: String) -> String? {
        password.utf8.count > maximumPasswordBytes ? "password must be at most 72 bytes" : nil
    }

    /// A problem with an avatar URL, if any: it must be an absolute http(s) URL.
    static func avatarURLProblem(_ url: String) -> String? {
        guard url.storedLength <= maximumAvatarURLLength, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { return "avatarUrl must be an http(s) URL of at most 255 characters" }
        return nil
    }

    /// A guest's user name from a display name: its letters, digits and underscores (at most 13,
    /// `guest` when none are left), then `_` and 6 random characters, so it is unique and valid.
    static func guestUsername(from displayName: String) throws(APIError) -> String {
        let trimmed = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...32).contains(trimmed.storedLength) else {
            throw .validation("displayName must be 1-32 characters", field: "displayName")
        }
        let kept = trimmed.replacingOccurrences(of: " ", with: "_").unicodeScalars
            .filter { $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }
        let stem = kept.isEmpty ? "guest" : String(String.UnicodeScalarView(kept.prefix(13)))
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let suffix = String((0..<6).map { _ in alphabet.randomElement(using: &generator)! })
        return "\(stem)_\(suffix)"
    }

    /// The canonical form of an e-mail address: trimmed and lowercased.
    static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
