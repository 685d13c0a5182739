/// A token bucket: `rate` tokens per second, holding at most `burst`.
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens held at once.
    public let burst: Double
    private var tokens: Double
    private var updated = ContinuousClock.now

    /// A full bucket.
    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
    }

    /// Takes a token if one is there.
    public mutating func take(at now: ContinuousClock.Instant = .now) -> Bool {
        take(1, at: now)
    }

    /// Takes `count` tokens if that many are there (a cost in bytes, say); takes none otherwise.
    /// `now` may be an earlier instant (when the request arrived, say): the bucket never runs backwards.
    public mutating func take(_ count: Double, at now: ContinuousClock.Instant = .now) -> Bool {
        refill(at: now)
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }

    /// Whole seconds until the next token (at least 1).
    public var secondsUntilNextToken: Int {
        guard rate > 0 else { return 1 }
        return max(1, Int(((1 - tokens) / rate).rounded(.up)))
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let elapsed = now - updated
        updated = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
    }
}
