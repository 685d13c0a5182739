import Foundation

/// A streaming multipart/form-data parser (RFC 7578): feed chunks as they arrive, get part headers,
/// body bytes and part ends as events. It holds at most one header block (16 KiB) or one delimiter's
/// worth of body bytes, whatever the part sizes, and treats every byte value as data, never as an index.
final class MultipartStreamParser {
    enum Event {
        /// A part begins, with its headers (names lower-cased).
        case headers([String: String])
        /// Bytes of the current part's body.
        case body(ArraySlice<UInt8>)
        /// The current part ended.
        case partEnd
    }

    enum ParseError: Error {
        case malformed
        case headersTooLarge
        case truncated
    }

    private enum State {
        case preamble, afterBoundary, headers, body, done
    }

    static let maximumHeaderBytes = 16 * 1024
    private static let headerEnd: [UInt8] = Array("\r\n\r\n".utf8)

    private let delimiter: [UInt8]
    private var buffer: [UInt8]
    private var state = State.preamble

    init(boundary: String) {
        self.delimiter = Array("\r\n--\(boundary)".utf8)
        // A leading CRLF lets the first boundary match the same delimiter as the others.
        self.buffer = Array("\r\n".utf8)
    }

    /// Parses what `bytes` completes, reporting events in order.
    func feed(_ bytes: some Sequence<UInt8>, _ handle: (Event) throws -> Void) throws {
        buffer.append(contentsOf: bytes)
        while true {
            switch state {
            case .preamble:
                guard let range = buffer.firstRange(of: delimiter) else {
                    buffer.removeFirst(max(0, buffer.count - (delimiter.count - 1)))
                    return
                }
                buffer.removeFirst(range.upperBound)
                state = .afterBoundary
            case .afterBoundary:
                guard buffer.count >= 2 else { return }
                if buffer[0] == UInt8(ascii: "-"), buffer[1] == UInt8(ascii: "-") {
                    state = .done
                } else if buffer[0] == UInt8(ascii: "\r"), buffer[1] == UInt8(ascii: "\n") {
                    buffer.removeFirst(2)
                    state = .headers
                } else {
                    throw ParseError.malformed
                }
            case .headers:
                guard let range = buffer.firstRange(of: Self.headerEnd) else {
                    if buffer.count > Self.maximumHeaderBytes { throw ParseError.headersTooLarge }
                    return
                }
                try handle(.headers(try Self.parseHeaders(buffer[..<range.lowerBound])))
                buffer.removeFirst(range.upperBound)
                state = .body
            case .body:
                if let range = buffer.firstRange(of: delimiter) {
                    if range.lowerBound > 0 { try handle(.body(buffer[..<range.lowerBound])) }
                    try handle(.partEnd)
                    buffer.removeFirst(range.upperBound)
                    state = .afterBoundary
                } else {
                    let safe = buffer.count - (delimiter.count - 1)
                    guard safe > 0 else { return }
                    try handle(.body(buffer[..<safe]))
                    buffer.removeFirst(safe)
                    return
                }
            case .done:
                buffer.removeAll()
                return
            }
        }
    }

    /// Throws unless the closing boundary was seen.
    func finish() throws {
        guard case .done = state else { throw ParseError.truncated }
    }

    private static func parseHeaders(_ block: ArraySlice<UInt8>) throws -> [String: String] {
        var headers: [String: String] = [:]
        for line in block.split(separator: UInt8(ascii: "\n")) {
            let trimmedLine = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
            guard !trimmedLine.isEmpty else { continue }
            guard let colon = trimmedLine.firstIndex(of: UInt8(ascii: ":")) else { throw ParseError.malformed }
            let name = trimmedLine[..<colon]
            let isToken = !name.isEmpty && name.allSatisfy { byte in
                byte > 32 && byte < 127 && !"()<>@,;:\\\"/[]?={} \t".utf8.contains(byte)
            }
            guard isToken else { throw ParseError.malformed }
            let value = String(decoding: trimmedLine[trimmedLine.index(after: colon)...], as: UTF8.self)
            headers[String(decoding: name, as: UTF8.self).lowercased()] = value.trimmingCharacters(in: .whitespaces)
        }
        return headers
    }
}
