import Testing
import VoiceFlowCommon

struct StoredLengthTests {
    @Test func lengthsAreCodePointsAsPostgreSQLCountsThem() {
        #expect("héllo".storedLength == 5)  // precomposed é
        let decomposed = "e\u{301}"
        #expect(decomposed.count == 1)
        #expect(decomposed.storedLength == 2)
        #expect("👩‍👩‍👧".count == 1)
        #expect("👩‍👩‍👧".storedLength == 5)
    }

    @Test func suffixKeepsTheLastCodePointsWithoutSplittingOne() {
        let name = String(repeating: "e\u{301}", count: 200) + ".png"  // 404 code points
        let kept = name.suffix(storedLength: 255)
        #expect(kept.storedLength == 255)
        #expect(kept.hasSuffix(".png"))
        #expect("short.txt".suffix(storedLength: 255) == "short.txt")
    }
}
