import Foundation

/// Typed access to environment variables, with defaults and clear parse errors.
///
/// ```swift
/// let env = EnvironmentReader()                 // the process environment
/// let port = try env.int("PORT", default: 3001)
/// ```
public struct EnvironmentReader: Sendable {
    private let values: [String: String]

    /// Reads the process environment, or the given dictionary (tests).
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The raw value of `key`, with empty strings treated as unset.
    public func string(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return nil
        }
        return value
    }

    /// The value of `key`, or `defaultValue` when unset.
    public func string(_ key: String, default defaultValue: String) -> String {
        string(key) ?? defaultValue
    }

    /// An integer within `range`, or `defaultValue` when unset.
    public func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int> = Int.min...Int.max)
        throws(ConfigurationError) -> Int
    {
        guard let raw = string(key) else { return defaultValue }
        guard let value = Int(raw) else {
            throw .invalidValue(key: key, reason: "not an integer")
        }
        guard range.contains(value) else {
            throw .invalidValue(key: key, reason: "must be within \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// A boolean (`true/false/1/0/yes/no/on/off`), or `defaultValue` when unset.
    public func bool(_ key: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let raw = string(key)?.lowercased() else { return defaultValue }
        switch raw {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw .invalidValue(key: key, reason: "not a boolean")
        }
    }

    /// A comma-separated list, or `defaultValue` when unset.
    public func list(_ key: String, default defaultValue: [String] = []) -> [String] {
        guard let raw = string(key) else { return defaultValue }
        return raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
