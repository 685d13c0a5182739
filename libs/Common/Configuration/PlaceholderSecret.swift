/// Recognises secrets that were never really set: the placeholders of `deploy/.env.example`
/// (`change-me-...`), other obvious stand-ins, and well-known defaults.
///
/// ```swift
/// PlaceholderSecret.isPlaceholder("change-me-to-a-long-random-string")   // true
/// ```
public enum PlaceholderSecret {
    /// Fragments that mark a value as a stand-in wherever they occur.
    static let markers = ["change-me", "changeme", "change_me", "replace-me", "replaceme", "placeholder", "your-", "<"]
    /// Whole values that are defaults, not secrets.
    static let defaults: Set<String> = ["password", "secret", "voiceflow", "postgres", "redis", "admin", "root", "test", "example"]

    /// Whether `value` is a placeholder or a default rather than a real secret.
    public static func isPlaceholder(_ value: String) -> Bool {
        let lowered = value.lowercased()
        return defaults.contains(lowered) || markers.contains { lowered.contains($0) }
    }
}
