import Foundation

/// A bare HTTP/1.1 client that sends a body with `Transfer-Encoding: chunked` (the test client always
/// declares a `Content-Length`), so tests can reach the limits that apply while a body streams.
enum ChunkedUpload {
    struct Answer {
        var status: Int
        var body: String
    }

    /// POSTs `chunks` to `path` on 127.0.0.1:`port`, one HTTP chunk each, and reads the answer. Stops
    /// sending early when the server stops reading (it may answer before the body ends).
    static func post(port: Int, path: String, headers: [String: String], chunks: [[UInt8]]) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try exchange(port: port, path: path, headers: headers, chunks: chunks) })
            }
        }
    }

    enum Failure: Error {
        case connect, malformedAnswer(String)
    }

    private static func exchange(port: Int, path: String, headers: [String: String], chunks: [[UInt8]]) throws -> Answer {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure.connect }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure.connect }

        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        var open = send(socket, Array(head.utf8))
        for chunk in chunks where open && !chunk.isEmpty {
            open = send(socket, Array((String(chunk.count, radix: 16) + "\r\n").utf8)) && send(socket, chunk)
                && send(socket, Array("\r\n".utf8))
        }
        if open { _ = send(socket, Array("0\r\n\r\n".utf8)) }
        shutdown(socket, Int32(SHUT_WR))

        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 "), let status = Int(text.dropFirst(9).prefix(3)) else { throw Failure.malformedAnswer(text) }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Answer(status: status, body: body)
    }

    /// Writes all of `bytes`; false once the peer stopped reading.
    private static func send(_ socket: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }
}
