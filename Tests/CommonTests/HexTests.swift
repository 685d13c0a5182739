import Foundation
import Testing
import VoiceFlowCommon

/// Digests, signatures and key ids are written as `String(format: "%02x")` would write them.
@Suite struct HexTests {
    @Test func everyByteIsTwoLowercaseDigits() {
        let bytes = (0...255).map(UInt8.init)
        #expect(bytes.lowercaseHex == bytes.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().lowercaseHex == "")
    }

    @Test func slicesAndDataReadTheSame() {
        let data = Data([0xde, 0xad, 0xbe, 0xef, 0x00, 0x0f, 0x10])
        #expect(data.lowercaseHex == "deadbeef000f10")
        #expect(data.prefix(4).lowercaseHex == "deadbeef")
    }
}

/// Ids are written as Foundation's `uuidString.lowercased()` would write them.
@Suite struct UUIDLowercaseTests {
    @Test func randomIdsReadAsFoundationWritesThem() {
        for _ in 0..<1_000 {
            let id = UUID()
            #expect(id.lowercasedString == id.uuidString.lowercased())
        }
    }

    @Test func theExtremesKeepEveryDigitAndDash() throws {
        let zero = try #require(UUID(uuidString: "00000000-0000-0000-0000-000000000000"))
        let full = try #require(UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"))
        #expect(zero.lowercasedString == "00000000-0000-0000-0000-000000000000")
        #expect(full.lowercasedString == "ffffffff-ffff-ffff-ffff-ffffffffffff")
        #expect(UUID(uuidString: full.lowercasedString) == full)
    }
}
