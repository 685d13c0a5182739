import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct FileTests {
    static let boundary = "VoiceFlowBoundary7MA4YWxk"

    /// A multipart/form-data body with one file part (and an optional extra text field first).
    static func multipart(fileName: String, type: String, content: [UInt8], field: String = "file") -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nhello\r\n")
        buffer.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(fileName)\"\r\n")
        buffer.writeString("Content-Type: \(type)\r\n\r\n")
        buffer.writeBytes(content)
        buffer.writeString("\r\n--\(boundary)--\r\n")
        return buffer
    }

    static func upload(
        _ client: any TestClientProtocol, as user: TestUsers.User, body: ByteBuffer,
        contentType: String = "multipart/form-data; boundary=\(boundary)"
    ) async throws -> TestResponse {
        try await client.execute(
            uri: "/api/v1/files", method: .post,
            headers: [.authorization: "Bearer \(user.token)", .contentType: contentType], body: body
        ) { $0 }
    }

    @Test func uploadDownloadAndSharing() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory]) { client, fixtures in
            let alice = try await fixtures.users.make("up")
            let bob = try await fixtures.users.make("peer")
            let stranger = try await fixtures.users.make("far")
            let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<3000).map { UInt8($0 % 251) }
            let response = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "../../etc/pass\"wd.png", type: "image/png", content: bytes))
            #expect(response.status == .created)
            let file = try response.json(FileDTO.self)
            #expect(file.name == "passwd.png")
            #expect(file.size == bytes.count)
            #expect(file.mimeType == "image/png")
            #expect(file.url == "/api/v1/files/\(file.id)")

            try await client.call(.get, file.url, as: alice) { response in
                #expect(response.status == .ok)
                #expect(Array(response.body.readableBytesView) == bytes)
                #expect(response.headers[.contentType] == "image/png")
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            }
            try await client.call(.get, file.url, as: bob) { response in #expect(response.status == .notFound) }

            // Shared in a room: its members may read it, others still may not.
            let room = try await fixtures.room(admin: alice, members: [bob])
            try await client.call(
                .post, "/api/v1/messages", as: alice, json: ["roomId": room.uuidString, "content": "the chart", "fileId": file.id]
            ) { response in #expect(response.status == .created) }
            try await client.call(.get, file.url, as: bob) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == bytes.count)
            }
            try await client.call(.get, file.url, as: stranger) { response in #expect(response.status == .notFound) }
            // Still shared once the message is archived.
            try await fixtures.archive(room, through: 1)
            try await client.call(.get, file.url, as: bob) { response in #expect(response.status == .ok) }
            try await client.call(.get, file.url, as: stranger) { response in #expect(response.status == .notFound) }
            try await client.call(.get, "/api/v1/files/\(UUID())", as: alice) { response in #expect(response.status == .notFound) }
            try await client.call(.get, "/api/v1/files/nope", as: alice) { response in #expect(response.status == .badRequest) }
        }
    }

    @Test func downloadNamesFollowRFC8187WithAnASCIIFallback() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory]) { client, fixtures in
            let alice = try await fixtures.users.make("intl")
            let response = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "Über café 100%'s ✓.txt", type: "text/plain", content: [65]))
            #expect(response.status == .created)
            let file = try response.json(FileDTO.self)
            #expect(file.name == "Über café 100%'s ✓.txt")
            try await client.call(.get, file.url, as: alice) { response in
                #expect(response.status == .ok)
                #expect(
                    response.headers[.contentDisposition]
                        == "attachment; filename=\"_ber caf_ 100_'s _.txt\"; filename*=UTF-8''%C3%9Cber%20caf%C3%A9%20100%25%27s%20%E2%9C%93.txt")
            }
        }
    }

    @Test func oversizeUploadsAreRefusedWhileStreamingAndLeaveNothing() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory, "MAX_UPLOAD_BYTES": "4096"]) { client, fixtures in
            let alice = try await fixtures.users.make("big")
            let response = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "big.txt", type: "text/plain", content: Array(repeating: 65, count: 50_000)))
            #expect(response.status == .contentTooLarge)
            #expect(response.errorBody?.code == "PAYLOAD_TOO_LARGE")
            // Just under the limit for the declared length, just over it for the file itself.
            let near = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "near.txt", type: "text/plain", content: Array(repeating: 66, count: 4097)))
            #expect(near.status == .contentTooLarge)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/incoming")
            #expect(leftovers.isEmpty)
            let exact = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "exact.txt", type: "text/plain", content: Array(repeating: 67, count: 4096)))
            #expect(exact.status == .created)
        }
    }

    /// Without a declared length, every byte of the body counts: a huge field beside a small file,
    /// or bytes after the closing boundary, end in 413 like a huge file does.
    @Test func chunkedUploadsAreBoundedInEveryByte() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory, "MAX_UPLOAD_BYTES": "4096"]) { client, fixtures in
            let alice = try await fixtures.users.make("chunk")
            let port = try #require(client.port)
            let headers = ["Authorization": "Bearer \(alice.token)", "Content-Type": "multipart/form-data; boundary=\(Self.boundary)"]
            let filler = [UInt8](repeating: 0x61, count: 16 * 1024)
            let opening = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n".utf8)
            let file = Array(Self.multipart(fileName: "small.txt", type: "text/plain", content: [65, 66]).readableBytesView)

            // A 160 KiB text field before a 2-byte file.
            let bigField = try await ChunkedUpload.post(
                port: port, path: "/api/v1/files", headers: headers,
                chunks: [opening] + Array(repeating: filler, count: 10) + [Array("\r\n".utf8), file])
            #expect(bigField.status == 413)
            #expect(bigField.body.contains("PAYLOAD_TOO_LARGE"))

            // A complete upload followed by 160 KiB after its closing boundary.
            let epilogue = try await ChunkedUpload.post(
                port: port, path: "/api/v1/files", headers: headers, chunks: [file] + Array(repeating: filler, count: 10))
            #expect(epilogue.status == 413)
            #expect(epilogue.body.contains("PAYLOAD_TOO_LARGE"))

            // The same small upload, chunked, with nothing extra, is stored.
            let fine = try await ChunkedUpload.post(port: port, path: "/api/v1/files", headers: headers, chunks: [file])
            #expect(fine.status == 201)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory + "/incoming")
            #expect(leftovers.isEmpty)
        }
    }

    @Test func uploadsAreRateLimitedPerUser() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory, "RATE_LIMIT_UPLOADS_PER_HOUR": "2"]) { client, fixtures in
            let alice = try await fixtures.users.make("rlup")
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<3 {
                let response = try await Self.upload(
                    client, as: alice, body: Self.multipart(fileName: "n\(index).txt", type: "text/plain", content: [65, 66]))
                statuses.append(response.status)
            }
            #expect(statuses == [.created, .created, .tooManyRequests])
            let bob = try await fixtures.users.make("rlup2")
            let other = try await Self.upload(client, as: bob, body: Self.multipart(fileName: "b.txt", type: "text/plain", content: [65]))
            #expect(other.status == .created)
        }
    }

    @Test func badUploadsGetClearErrors() async throws {
        let directory = NSTemporaryDirectory() + "vf-files-\(TestEnvironment.uniqueSuffix())"
        try await withMessagesService(["FILE_STORAGE_DIR": directory]) { client, fixtures in
            let alice = try await fixtures.users.make("bad")
            let guest = try await fixtures.users.make("gst", kind: .guest)
            let exe = try await Self.upload(client, as: alice, body: Self.multipart(fileName: "run.exe", type: "application/x-msdownload", content: [1, 2, 3]))
            #expect(exe.status == .unsupportedMediaType)
            let wrongField = try await Self.upload(
                client, as: alice, body: Self.multipart(fileName: "a.txt", type: "text/plain", content: [65], field: "attachment"))
            #expect(wrongField.status == .badRequest)
            let empty = try await Self.upload(client, as: alice, body: Self.multipart(fileName: "a.txt", type: "text/plain", content: []))
            #expect(empty.status == .unprocessableContent)
            let notMultipart = try await Self.upload(client, as: alice, body: ByteBuffer(string: "{}"), contentType: "application/json")
            #expect(notMultipart.status == .unsupportedMediaType)
            let garbage = try await Self.upload(client, as: alice, body: ByteBuffer(string: "this is not multipart at all"))
            #expect(garbage.status == .badRequest)
            var hostile = ByteBuffer(string: "--\(Self.boundary)\r\n")
            hostile.writeBytes([0xC3, 0xBF, 0xF0, 0x9F, 0x92, 0xA9])
            hostile.writeString(": x\r\n\r\nbody\r\n--\(Self.boundary)--\r\n")
            let nonASCIIHeader = try await Self.upload(client, as: alice, body: hostile)
            #expect(nonASCIIHeader.status == .badRequest)
            let fromGuest = try await Self.upload(client, as: guest, body: Self.multipart(fileName: "a.txt", type: "text/plain", content: [65]))
            #expect(fromGuest.status == .forbidden)
            // The service is still up after hostile input.
            try await client.call(.get, "/health", as: nil) { response in #expect(response.status == .ok) }
            for response in [exe, wrongField, empty, notMultipart, garbage, nonASCIIHeader, fromGuest] {
                #expect(response.errorBody != nil)
            }
        }
    }
}
