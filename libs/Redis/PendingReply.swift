import NIOCore

/// A command waiting for its reply, and how many replies complete it.
///
/// Every command gets one reply, except the subscription commands in subscriber mode: Redis answers
/// `SUBSCRIBE a b` (and `PSUBSCRIBE`, `UNSUBSCRIBE`, `PUNSUBSCRIBE`) with one confirmation per
/// name, `[kind, name, remaining subscriptions]`. Completing the promise at the first one would
/// hand the second to the next command's promise, and so on, one reply off for ever.
struct PendingReply {
    let promise: EventLoopPromise<RESPValue>
    private var expectation: Expectation

    private enum Expectation {
        /// One reply completes it.
        case single
        /// This many more confirmations of `kind` (`subscribe`, `unsubscribe`, ...).
        case confirmations(kind: String, remaining: Int)
        /// `UNSUBSCRIBE` / `PUNSUBSCRIBE` without names: until none of that kind is left.
        case unsubscribeAll(kind: String)
    }

    init(command: [[UInt8]], promise: EventLoopPromise<RESPValue>) {
        self.promise = promise
        let name = command.first.map { String(decoding: $0, as: UTF8.self).lowercased() } ?? ""
        let names = command.count - 1
        switch name {
        case "subscribe", "psubscribe", "unsubscribe", "punsubscribe":
            if names > 0 {
                expectation = .confirmations(kind: name, remaining: names)
            } else if name.hasPrefix("un") || name.hasPrefix("pun") {
                expectation = .unsubscribeAll(kind: name)
            } else {
                expectation = .single  // SUBSCRIBE without a name: Redis answers with one error
            }
        default:
            expectation = .single
        }
    }

    /// Takes one reply for this command; true when it was the last one.
    mutating func receive(_ reply: RESPValue, subscriptions: inout SubscriptionCounts) -> Bool {
        let confirmation = SubscriptionConfirmation(reply)
        if let confirmation { subscriptions.apply(confirmation) }
        switch expectation {
        case .single:
            return true
        case .confirmations(let kind, let remaining):
            // An error reply (or anything but a confirmation of this kind) ends the command.
            guard let confirmation, confirmation.kind == kind, remaining > 1 else { return true }
            expectation = .confirmations(kind: kind, remaining: remaining - 1)
            return false
        case .unsubscribeAll(let kind):
            guard let confirmation, confirmation.kind == kind else { return true }
            return kind == "unsubscribe" ? subscriptions.channels.isEmpty : subscriptions.patterns.isEmpty
        }
    }
}

/// What a subscriber connection is subscribed to, as its confirmations told.
struct SubscriptionCounts {
    var channels: Set<[UInt8]> = []
    var patterns: Set<[UInt8]> = []

    mutating func apply(_ confirmation: SubscriptionConfirmation) {
        guard let name = confirmation.name else { return }
        switch confirmation.kind {
        case "subscribe": channels.insert(name)
        case "unsubscribe": channels.remove(name)
        case "psubscribe": patterns.insert(name)
        case "punsubscribe": patterns.remove(name)
        default: break
        }
    }
}

/// A `[subscribe|unsubscribe|psubscribe|punsubscribe, name or nil, count]` reply.
struct SubscriptionConfirmation {
    let kind: String
    /// `nil` in the answer to an unsubscribe-all when nothing was subscribed.
    let name: [UInt8]?

    init?(_ reply: RESPValue) {
        guard case .array(let parts) = reply, parts.count == 3, let kind = parts[0].string?.lowercased(),
            ["subscribe", "unsubscribe", "psubscribe", "punsubscribe"].contains(kind), parts[2].int != nil
        else { return nil }
        self.kind = kind
        self.name = parts[1].bytes
    }
}
