import Testing
@testable import MessagesService

/// The multipart parser at the byte level, with every chunking and hostile bytes.
@Suite struct MultipartParserTests {
    static let body: [UInt8] = Array(
        "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nfirst\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\nContent-Type: application/zip\r\n\r\n".utf8)
        + [0, 13, 10, 45, 45, 88, 255, 128] + Array("\r\n--XyZ--\r\nepilogue".utf8)

    static func parse(_ bytes: [UInt8], chunk: Int) throws -> (headers: [[String: String]], bodies: [[UInt8]]) {
        let parser = MultipartStreamParser(boundary: "XyZ")
        var headers: [[String: String]] = []
        var bodies: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let end = min(index + chunk, bytes.count)
            try parser.feed(bytes[index..<end]) { event in
                switch event {
                case .headers(let h): headers.append(h)
                case .body(let b): current += b
                case .partEnd:
                    bodies.append(current)
                    current = []
                }
            }
            index = end
        }
        try parser.finish()
        return (headers, bodies)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 1000])
    func partsSurviveAnyChunking(chunk: Int) throws {
        let (headers, bodies) = try Self.parse(Self.body, chunk: chunk)
        #expect(headers.count == 2)
        #expect(headers[1]["content-type"] == "application/zip")
        #expect(headers[1]["content-disposition"]?.contains("filename=\"b.bin\"") == true)
        #expect(bodies == [Array("first".utf8), [0, 13, 10, 45, 45, 88, 255, 128]])
    }

    @Test func hostileInputIsAnErrorNotACrash() {
        let nonASCIIHeader: [UInt8] = Array("--XyZ\r\n".utf8) + [0xC3, 0xBF, 0xF0, 0x9F] + Array(": x\r\n\r\nbody\r\n--XyZ--".utf8)
        #expect(throws: MultipartStreamParser.ParseError.self) { try Self.parse(nonASCIIHeader, chunk: 3) }
        let truncated = Array("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nno end".utf8)
        #expect(throws: MultipartStreamParser.ParseError.self) { try Self.parse(truncated, chunk: 4) }
        let hugeHeaders = Array("--XyZ\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "a"), count: 20_000)
        #expect(throws: MultipartStreamParser.ParseError.self) { try Self.parse(hugeHeaders, chunk: 512) }
        let badAfterBoundary = Array("--XyZ!!".utf8)
        #expect(throws: MultipartStreamParser.ParseError.self) { try Self.parse(badAfterBoundary, chunk: 1) }
    }
}
