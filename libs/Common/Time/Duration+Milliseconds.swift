extension Duration {
    /// The duration in whole milliseconds, the rest dropped (towards zero): what Redis (`PX`,
    /// Lua scripts working in Unix ms) and the wire protocols take.
    ///
    /// ```swift
    /// Duration.seconds(10).wholeMilliseconds          // 10_000
    /// Duration.microseconds(2_500).wholeMilliseconds  // 2
    /// ```
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
