import Foundation

extension UUID {
    /// The UUID as VoiceFlow writes it everywhere (ids in JSON, channels, paths): 36 characters,
    /// lowercase hexadecimal, `8-4-4-4-12`. It is `uuidString.lowercased()`, formatted directly
    /// (Foundation's `uuidString` goes through `snprintf`, and `lowercased()` through Unicode case
    /// mapping), which matters where every message of a history page carries two or three ids.
    ///
    /// ```swift
    /// UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!.lowercasedString
    /// // "e621e1f8-c36c-495a-93fc-0c247a3e6e5f"
    /// ```
    public var lowercasedString: String {
        withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                var index = 0
                for (position, byte) in bytes.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        text[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    text[index] = lowercaseHexDigits[Int(byte >> 4)]
                    text[index + 1] = lowercaseHexDigits[Int(byte & 0x0F)]
                    index += 2
                }
                return index
            }
        }
    }
}
