extension StringProtocol {
    /// The length as PostgreSQL counts it (`char_length`, `VARCHAR(n)`): Unicode code points.
    ///
    /// Every length limit checks this rather than `count`: `count` is in grapheme clusters, so
    /// one "character" can carry any number of combining marks and pass a limit the database
    /// then refuses (or, for text that is never stored, be any size at all).
    public var storedLength: Int { unicodeScalars.count }
}

extension String {
    /// The last `maximum` code points (the whole string when it is shorter), never splitting one.
    public func suffix(storedLength maximum: Int) -> String {
        guard storedLength > maximum else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.suffix(maximum)))
    }
}
