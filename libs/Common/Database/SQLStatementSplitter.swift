import Foundation

/// Splits a SQL script into single statements, since the extended query protocol runs one at a time.
///
/// Understands `'...'` strings, `"..."` identifiers, `--` and `/* */` comments and `$tag$...$tag$`
/// dollar quoting, so semicolons inside them do not split.
enum SQLStatementSplitter {
    /// The statements of `script`, trimmed, without empty ones and without trailing semicolons.
    static func split(_ script: String) throws(MigrationError) -> [String] {
        let characters = Array(script.unicodeScalars)
        var statements: [String] = []
        var current = String.UnicodeScalarView()
        var index = 0

        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current = String.UnicodeScalarView()
        }
        func starts(with token: String, at position: Int) -> Bool {
            let scalars = Array(token.unicodeScalars)
            guard position + scalars.count <= characters.count else { return false }
            return Array(characters[position..<(position + scalars.count)]) == scalars
        }

        while index < characters.count {
            let character = characters[index]
            if character == ";" {
                flush()
                index += 1
            } else if starts(with: "--", at: index) {
                while index < characters.count, characters[index] != "\n" { index += 1 }
            } else if starts(with: "/*", at: index) {
                guard let end = firstIndex(of: "*/", in: characters, from: index + 2) else { throw .unterminatedSQL(version: 0) }
                index = end + 2
            } else if character == "'" || character == "\"" {
                var end = index + 1
                while end < characters.count, characters[end] != character { end += 1 }
                guard end < characters.count else { throw .unterminatedSQL(version: 0) }
                current.append(contentsOf: characters[index...end])
                index = end + 1
            } else if character == "$", let tagEnd = dollarTagEnd(in: characters, from: index) {
                let tag = String(String.UnicodeScalarView(characters[index...tagEnd]))
                guard let close = firstIndex(of: tag, in: characters, from: tagEnd + 1) else {
                    throw .unterminatedSQL(version: 0)
                }
                let last = close + tag.unicodeScalars.count - 1
                current.append(contentsOf: characters[index...last])
                index = last + 1
            } else {
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// The index of the closing `$` of a dollar-quote tag starting at `start`, if one starts there.
    private static func dollarTagEnd(in characters: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start + 1
        while index < characters.count {
            let character = characters[index]
            if character == "$" { return index }
            guard character == "_" || character.properties.isAlphabetic || (index > start + 1 && ("0"..."9").contains(character))
            else { return nil }
            index += 1
        }
        return nil
    }

    private static func firstIndex(of token: String, in characters: [Unicode.Scalar], from start: Int) -> Int? {
        let scalars = Array(token.unicodeScalars)
        guard scalars.count <= characters.count else { return nil }
        var index = start
        while index + scalars.count <= characters.count {
            if Array(characters[index..<(index + scalars.count)]) == scalars { return index }
            index += 1
        }
        return nil
    }
}
