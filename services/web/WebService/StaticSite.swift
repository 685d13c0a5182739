import Crypto
import Foundation
import NIOCore
import Synchronization
import VoiceFlowCommon

/// The built client in memory: every file of the web root with its content type, entity tag and
/// precompressed `.gz` sibling. The whole client is a few hundred kilobytes.
struct StaticSite: Sendable {
    /// One file, as served.
    struct File: Sendable {
        let body: ByteBuffer
        /// Its `.gz` sibling, when the build wrote one.
        let gzip: ByteBuffer?
        let contentType: String
        /// A strong entity tag of the uncompressed content.
        let entityTag: String
    }

    /// Files by path relative to the root (`index.html`, `assets/app-1c2e74710859.js`).
    let files: [String: File]

    /// The page every client route answers with.
    var index: File? { files["index.html"] }

    /// Largest file read (the client's files are far smaller; anything bigger is not ours).
    static let maximumFileBytes = 16 * 1024 * 1024

    /// Reads every file under `root`; nil when it holds no `index.html` (the client is not built).
    static func load(root: String) -> StaticSite? {
        let rootURL = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        guard let enumerator = FileManager.default.enumerator(at: rootURL, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey])
        else { return nil }
        var contents: [String: Data] = [:]
        for case let url as URL in enumerator {
            guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey]), values.isRegularFile == true,
                (values.fileSize ?? 0) <= maximumFileBytes, let data = try? Data(contentsOf: url)
            else { continue }
            let path = url.standardizedFileURL.path.dropFirst(rootURL.path.count).drop { $0 == "/" }
            contents[String(path)] = data
        }
        var files: [String: File] = [:]
        for (path, data) in contents where !path.hasSuffix(".gz") && !path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            let digest = SHA256.hash(data: data).prefix(12).lowercaseHex
            files[path] = File(
                body: ByteBuffer(bytes: data), gzip: contents[path + ".gz"].map { ByteBuffer(bytes: $0) },
                contentType: contentType(of: path), entityTag: "\"\(digest)\"")
        }
        guard files["index.html"] != nil else { return nil }
        return StaticSite(files: files)
    }

    static func contentType(of path: String) -> String {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "html": return "text/html; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "jpg", "jpeg": return "image/jpeg"
        case "webp": return "image/webp"
        case "ico": return "image/x-icon"
        case "json", "map": return "application/json"
        case "woff2": return "font/woff2"
        case "txt": return "text/plain; charset=utf-8"
        default: return "application/octet-stream"
        }
    }
}

/// The site as last built: reloaded when `index.html` changes (a new build), checked at most once
/// a second, so `web/build.sh` takes effect without a restart.
final class SiteCache: Sendable {
    private struct State {
        var site: StaticSite?
        var indexModified: Date?
        var checkedAt: ContinuousClock.Instant?
    }

    let root: String
    private let state = Mutex(State())

    init(root: String) {
        self.root = root
    }

    /// The current site; nil while the client is not built.
    func current() -> StaticSite? {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let checked = state.checkedAt, now - checked < .seconds(1) { return false }
            state.checkedAt = now
            return true
        }
        guard due else { return state.withLock { $0.site } }
        let indexPath = URL(fileURLWithPath: root).appendingPathComponent("index.html").path
        let modified = (try? FileManager.default.attributesOfItem(atPath: indexPath))?[.modificationDate] as? Date
        let unchanged = state.withLock { $0.indexModified == modified && ($0.site != nil || modified == nil) }
        if unchanged { return state.withLock { $0.site } }
        let site = StaticSite.load(root: root)
        state.withLock { state in
            state.site = site
            state.indexModified = modified
        }
        return site
    }
}
