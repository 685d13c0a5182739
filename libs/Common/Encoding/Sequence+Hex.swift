extension Sequence<UInt8> {
    /// The bytes as lowercase hexadecimal, two digits each (digests, signatures, key ids).
    ///
    /// ```swift
    /// [0x0f, 0xa0].lowercaseHex  // "0fa0"
    /// ```
    public var lowercaseHex: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            digits.append(lowercaseHexDigits[Int(byte >> 4)])
            digits.append(lowercaseHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: digits, as: UTF8.self)
    }
}

/// The sixteen digits, as bytes (shared with `UUID.lowercasedString`).
let lowercaseHexDigits = Array("0123456789abcdef".utf8)
