import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import TestSupport
import Testing
import VoiceFlowCommon

/// FileFlow is an external service we cannot run: a small stand-in that checks the documented
/// contract (docs/FILEFLOW.md) plays its part.
actor FileFlowStandIn {
    static let key = "test-key"
    static let secret = "test-secret"
    private(set) var files: [String: (bytes: [UInt8], type: String)] = [:]
    private(set) var rejected = 0

    func put(_ id: String, _ bytes: [UInt8], _ type: String) { files[id] = (bytes, type) }
    func get(_ id: String) -> (bytes: [UInt8], type: String)? { files[id] }
    func reject() { rejected += 1 }

    /// The signature the contract specifies, computed independently of the service's code.
    nonisolated static func expectedSignature(method: String, path: String, timestamp: String, body: [UInt8]) -> String {
        let hash = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(method)\n\(path)\n\(timestamp)\n\(hash)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Runs the stand-in on a free port and passes its base URL to `body`.
    static func run(_ body: @escaping @Sendable (String, FileFlowStandIn) async throws -> Void) async throws {
        let store = FileFlowStandIn()
        let router = Router()
        @Sendable func authorized(_ request: Request, body: [UInt8]) -> Bool {
            guard request.headers[HTTPField.Name("X-FileFlow-Key")!] == key,
                let timestamp = request.headers[HTTPField.Name("X-FileFlow-Timestamp")!],
                let signature = request.headers[HTTPField.Name("X-FileFlow-Signature")!]
            else { return false }
            return signature == expectedSignature(method: request.method.rawValue, path: request.uri.path, timestamp: timestamp, body: body)
        }
        router.put("v1/files/:id") { request, context -> HTTPResponse.Status in
            let bytes = Array(try await request.body.collect(upTo: 64 << 20).readableBytesView)
            guard authorized(request, body: bytes) else {
                await store.reject()
                return .unauthorized
            }
            await store.put(try context.parameters.require("id"), bytes, request.headers[.contentType] ?? "")
            return .created
        }
        router.get("v1/files/:id") { request, context -> Response in
            guard authorized(request, body: []) else { return Response(status: .unauthorized) }
            guard let file = await store.get(try context.parameters.require("id")) else { return Response(status: .notFound) }
            return Response(status: .ok, headers: [.contentType: file.type], body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: TestEnvironment.logger("fileflow"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await application.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            try await body("http://127.0.0.1:\(port)", store)
            group.cancelAll()
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct FileFlowTests {
    @Test func filesRoundTripThroughFileFlow() async throws {
        try await FileFlowStandIn.run { url, store in
            let variables = [
                "FILEFLOW_API_URL": url, "FILEFLOW_API_KEY": FileFlowStandIn.key, "FILEFLOW_API_SECRET": FileFlowStandIn.secret,
                "FILE_STORAGE_DIR": NSTemporaryDirectory() + "vf-ff-\(TestEnvironment.uniqueSuffix())",
            ]
            try await withMessagesService(variables) { client, fixtures in
                let alice = try await fixtures.users.make("ff")
                let bytes = Array("%PDF-1.4 stand-in content".utf8) + (0..<5000).map { UInt8($0 % 256) }
                let response = try await FileTests.upload(
                    client, as: alice, body: FileTests.multipart(fileName: "doc.pdf", type: "application/pdf", content: bytes))
                #expect(response.status == .created)
                let file = try response.json(FileDTO.self)
                let stored = await store.get(file.id)
                #expect(stored?.bytes == bytes)
                #expect(stored?.type == "application/pdf")
                try await client.call(.get, file.url, as: alice) { response in
                    #expect(response.status == .ok)
                    #expect(Array(response.body.readableBytesView) == bytes)
                }
                #expect(await store.rejected == 0)
            }
        }
    }

    @Test func aRefusingFileFlowIsAServiceErrorNotACrash() async throws {
        try await FileFlowStandIn.run { url, store in
            let variables = [
                "FILEFLOW_API_URL": url, "FILEFLOW_API_KEY": FileFlowStandIn.key, "FILEFLOW_API_SECRET": "wrong-secret",
                "FILE_STORAGE_DIR": NSTemporaryDirectory() + "vf-ff-\(TestEnvironment.uniqueSuffix())",
            ]
            try await withMessagesService(variables) { client, fixtures in
                let alice = try await fixtures.users.make("ffx")
                let response = try await FileTests.upload(
                    client, as: alice, body: FileTests.multipart(fileName: "a.txt", type: "text/plain", content: Array("hello".utf8)))
                #expect(response.status == .serviceUnavailable)
                #expect(response.errorBody?.code == "SERVICE_UNAVAILABLE")
                #expect(await store.rejected == 1)
            }
        }
    }

    @Test func partialFileFlowSettingsAreRefused() {
        #expect(throws: ConfigurationError.self) {
            try MessagesConfigurationProbe.make(["FILEFLOW_API_URL": "http://127.0.0.1:1"])
        }
    }
}

import MessagesService

enum MessagesConfigurationProbe {
    static func make(_ variables: [String: String]) throws -> MessagesConfiguration {
        try MessagesConfiguration(environment: EnvironmentReader(TestEnvironment.serviceVariables(variables)))
    }
}
