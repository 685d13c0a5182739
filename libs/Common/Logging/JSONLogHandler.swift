import Foundation
import Logging
import NIOConcurrencyHelpers

/// A swift-log handler that writes one JSON object per line to standard error.
///
/// Lines carry `timestamp`, `level`, `message`, `label` and the merged metadata
/// (for example `request.id`, `user.id`). Metadata keys that look like secrets are redacted.
///
/// ```swift
/// LoggingSystem.bootstrap { JSONLogHandler(label: $0, logLevel: .info) }
/// ```
public struct JSONLogHandler: LogHandler {
    /// Metadata keys whose values are never written.
    static let redactedKeys: Set<String> = ["password", "token", "refreshToken", "authorization", "secret", "cookie"]

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sink: JSONLogSink

    /// Creates a handler for `label`, writing to standard error or to a custom sink (tests).
    public init(label: String, logLevel: Logger.Level = .info, sink: JSONLogSink = .standardError) {
        self.label = label
        self.logLevel = logLevel
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var object: [String: Any] = [
            "timestamp": Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)),
            "level": event.level.rawValue,
            "message": event.message.description,
            "label": label,
        ]
        for (key, value) in merged {
            object[key] = Self.redactedKeys.contains(key) ? "[redacted]" : Self.jsonValue(value)
        }
        if event.level >= .error {
            object["source"] = "\(event.file):\(event.line)"
        }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(0x0A)
        sink.write(line)
    }

    private static func jsonValue(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let string): string
        case .stringConvertible(let convertible): convertible.description
        case .array(let array): array.map(jsonValue)
        case .dictionary(let dictionary): dictionary.mapValues(jsonValue)
        }
    }
}

/// Where ``JSONLogHandler`` writes its lines.
public struct JSONLogSink: Sendable {
    private let writeLine: @Sendable (Data) -> Void

    /// A sink calling `writeLine` for each encoded line.
    public init(_ writeLine: @escaping @Sendable (Data) -> Void) {
        self.writeLine = writeLine
    }

    func write(_ line: Data) { writeLine(line) }

    /// Standard error, one locked write per line so lines from many tasks never interleave.
    public static let standardError: JSONLogSink = {
        let lock = NIOLock()
        return JSONLogSink { line in
            lock.withLock { FileHandle.standardError.write(line) }
        }
    }()
}

extension Logger.Level {
    /// Parses a `LOG_LEVEL` value, defaulting to `.info`.
    public init(configValue: String) {
        self = Logger.Level(rawValue: configValue.lowercased()) ?? .info
    }
}
