import Dispatch
import Foundation
import Synchronization
import Testing
import VoiceFlowCommon

@Suite(.timeLimit(.minutes(3))) struct SigningKeyTests {
    /// Services starting together on a fresh machine each find no key file and create one: exactly
    /// one file must win and every creator must use that key, never its own.
    @Test func concurrentCreatorsAllUseTheOneKeyThatLanded() async throws {
        let directory = NSTemporaryDirectory() + "voiceflow-key-race-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let creators = 8
        for round in 0..<25 {
            let path = "\(directory)/round-\(round)/keys/jwt-ed25519.pem"
            let configuration = TokenKeyConfiguration(environment: EnvironmentReader(["JWT_KEY_FILE": path]))
            let keyIDs = Mutex<[String?]>(Array(repeating: nil, count: creators))
            // On threads of their own, off the shared concurrency pool the other suites' servers run on.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    DispatchQueue.concurrentPerform(iterations: creators) { index in
                        let keyID = try? SigningKey.load(configuration, mode: .development).keyID
                        keyIDs.withLock { $0[index] = keyID }
                    }
                    done.resume()
                }
            }
            let loaded = keyIDs.withLock { $0 }
            #expect(loaded.allSatisfy { $0 != nil }, "every creator loads a key")
            let onDisk = try SigningKey.load(configuration, mode: .development).keyID
            #expect(Set(loaded.compactMap { $0 }) == [onDisk], "round \(round): every creator uses the key on disk")
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: "\(directory)/round-\(round)/keys")
            #expect(leftovers == ["jwt-ed25519.pem"], "no temporary files are left behind")
            if Set(loaded.compactMap { $0 }).count > 1 { break }
        }
    }

    @Test func anExistingKeyFileIsReadNotReplaced() throws {
        let path = NSTemporaryDirectory() + "voiceflow-key-\(UUID().uuidString).pem"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = TokenKeyConfiguration(environment: EnvironmentReader(["JWT_KEY_FILE": path]))
        let first = try SigningKey.load(configuration, mode: .test)
        let again = try SigningKey.load(configuration, mode: .test)
        #expect(first.keyID == again.keyID)
    }

    @Test func anUnreadableKeyFileIsAConfigurationError() throws {
        let path = NSTemporaryDirectory() + "voiceflow-key-\(UUID().uuidString).pem"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: path))
        let configuration = TokenKeyConfiguration(environment: EnvironmentReader(["JWT_KEY_FILE": path]))
        #expect(throws: ConfigurationError.self) { try SigningKey.load(configuration, mode: .test) }
    }
}
