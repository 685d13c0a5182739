import Testing

@testable import MessagesService

@Suite struct ContentDispositionTests {
    @Test func onlyAttrCharsStayRaw() {
        let attrChars = "ABCXYZabcxyz0189!#$&+-.^_`|~"
        #expect(ContentDisposition.extendedValue(attrChars) == attrChars)
        #expect(ContentDisposition.extendedValue("a b\"c\\d;e,f'g%h*i(j)k/l:m=n?o@p[q]r{s}t<u>v") ==
            "a%20b%22c%5Cd%3Be%2Cf%27g%25h%2Ai%28j%29k%2Fl%3Am%3Dn%3Fo%40p%5Bq%5Dr%7Bs%7Dt%3Cu%3Ev")
        // Letters outside ASCII are bytes to encode like any other.
        #expect(ContentDisposition.extendedValue("é漢🙂") == "%C3%A9%E6%BC%A2%F0%9F%99%82")
        #expect(ContentDisposition.extendedValue("\r\n\u{0}") == "%0D%0A%00")
    }

    @Test func theFallbackCannotBreakTheHeader() {
        #expect(ContentDisposition.asciiFallback("plain-name.pdf") == "plain-name.pdf")
        #expect(ContentDisposition.asciiFallback("a\"b\\c%d\r\ne\u{7F}f.txt") == "a_b_c_d__e_f.txt")
        #expect(ContentDisposition.asciiFallback("日本") == "__")
        #expect(ContentDisposition.asciiFallback("") == "file")
        let header = ContentDisposition.attachment(fileName: "x\"; filename*=UTF-8''evil.exe\r\nSet-Cookie: a=b")
        #expect(!header.contains("\r") && !header.contains("\n"))
        #expect(header == "attachment; filename=\"x_; filename*=UTF-8''evil.exe__Set-Cookie: a=b\"; "
            + "filename*=UTF-8''x%22%3B%20filename%2A%3DUTF-8%27%27evil.exe%0D%0ASet-Cookie%3A%20a%3Db")
        #expect(header.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 })
    }
}
