import Foundation

/// A mailbox: an ASCII address (`user@example.com`) with an optional display name (any Unicode).
///
/// ```swift
/// let from = try MailAddress(parsing: "VoiceFlow <no-reply@example.com>")
/// let to = try MailAddress(parsing: "zoe@example.com")
/// ```
///
/// Addresses are checked conservatively (dot-atom local part, hostname or address-literal domain,
/// no SMTPUTF8): anything that could break out of an SMTP command or a header is refused.
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    /// The `local@domain` part, as it goes into `MAIL FROM` / `RCPT TO`.
    public let address: String
    /// The display name, if any.
    public let displayName: String?

    /// The part after `@`.
    public var domain: String {
        String(address[address.index(after: address.lastIndex(of: "@") ?? address.startIndex)...])
    }

    /// A validated address with an optional display name.
    public init(address: String, displayName: String? = nil, field: String = "address") throws(SMTPError) {
        try Self.validate(address: address, field: field)
        if let displayName {
            guard !displayName.unicodeScalars.contains(where: Self.isControl) else {
                throw .invalidAddress(field: field, reason: "the display name contains a line break or control character")
            }
        }
        self.address = address
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// An address known to be valid (constants).
    init(verbatim address: String, displayName: String?) {
        self.address = address
        self.displayName = displayName
    }

    /// Parses `user@example.com`, `Name <user@example.com>` or `"Name, Jr." <user@example.com>`.
    public init(parsing text: String, field: String = "address") throws(SMTPError) {
        guard !text.unicodeScalars.contains(where: Self.isControl) else {
            throw .invalidAddress(field: field, reason: "contains a line break or control character")
        }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            try self.init(address: trimmed, field: field)
            return
        }
        let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = String(trimmed[..<open]).trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            name = Self.unquote(name.dropFirst().dropLast())
        }
        try self.init(address: address, displayName: name.isEmpty ? nil : name, field: field)
    }

    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
            || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    private static let localCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".unicodeScalars)
    private static let domainCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.".unicodeScalars)
    private static let literalCharacters = Set("0123456789abcdefABCDEF.:IPvV".unicodeScalars)

    private static func validate(address: String, field: String) throws(SMTPError) {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw .invalidAddress(field: field, reason: "expected exactly one @")
        }
        let local = parts[0]
        let domain = parts[1]
        guard (1...64).contains(local.utf8.count), local.unicodeScalars.allSatisfy(localCharacters.contains),
            !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..")
        else {
            throw .invalidAddress(field: field, reason: "the local part must be a plain ASCII dot-atom")
        }
        guard (1...253).contains(domain.utf8.count) else {
            throw .invalidAddress(field: field, reason: "the domain is empty or too long")
        }
        if domain.hasPrefix("[") && domain.hasSuffix("]") && domain.count > 2 {
            guard domain.dropFirst().dropLast().unicodeScalars.allSatisfy(literalCharacters.contains) else {
                throw .invalidAddress(field: field, reason: "malformed address literal")
            }
            return
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.unicodeScalars.allSatisfy(domainCharacters.contains),
                !label.hasPrefix("-"), !label.hasSuffix("-")
            else {
                throw .invalidAddress(field: field, reason: "the domain must be an ASCII hostname (punycode for IDNs)")
            }
        }
    }

    private static func unquote(_ quoted: Substring) -> String {
        var result = ""
        var escaped = false
        for character in quoted {
            if !escaped && character == "\\" {
                escaped = true
                continue
            }
            escaped = false
            result.append(character)
        }
        return result
    }
}
