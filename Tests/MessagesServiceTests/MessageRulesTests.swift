import Foundation
import Testing

@testable import MessagesService

@Suite struct MessageRulesTests {
    @Test(arguments: [
        "  hello there  ", "hello", "", " ", "\t\n\r\u{0B}\u{0C}", "\u{3000}wide\u{2028}", "\u{85}next\u{A0}",
        "\u{2000}\u{200A}x\u{202F}\u{205F}", " \u{301}e ", "a b", "\u{200B}zero width\u{200B}", "\u{FEFF}bom", "é\n", "🙂  ",
    ])
    func trimsAsFoundationDoes(_ text: String) {
        let expected = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(MessageRules.trimmed(text) == expected)
        #expect(Array(MessageRules.trimmed(text).unicodeScalars) == Array(expected.unicodeScalars))
    }
}
