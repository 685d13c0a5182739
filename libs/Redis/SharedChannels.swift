import Synchronization

/// Reference-counted channel subscriptions on one ``RedisSubscriber``, each with a value shared by
/// its holders (a room's stream, say).
///
/// The first ``retain(_:make:onSubscribed:)`` of a channel makes its value and subscribes; every
/// retain of that channel waits for that same subscription, and fails with it (giving its count
/// back), so a failed subscribe never leaves a count or a half-open channel. `onSubscribed` runs
/// once per subscription, for the code that reads it. The last ``release(_:)`` unsubscribes.
/// Every retain that returned must be paired with one release.
///
/// ```swift
/// let rooms = SharedChannels<RoomStream>(subscriber: subscriber)
/// let stream = try await rooms.retain("vf:room:42", make: { RoomStream() }) { subscription, stream in
///     readers.yield((stream, subscription))
/// }
/// await rooms.release("vf:room:42")
/// ```
public final class SharedChannels<Value: Sendable>: Sendable {
    private typealias Opening = Task<Result<RedisSubscription, RedisError>, Never>
    private struct Entry {
        let value: Value
        let opening: Opening
        var holders: Int
    }

    private let subscriber: RedisSubscriber
    private let entries = Mutex<[String: Entry]>([:])

    /// Channels subscribed through `subscriber`.
    public init(subscriber: RedisSubscriber) {
        self.subscriber = subscriber
    }

    /// Channels held now.
    public var count: Int { entries.withLock { $0.count } }

    /// The value of `channel` while it is held.
    public func value(of channel: String) -> Value? {
        entries.withLock { $0[channel]?.value }
    }

    /// How many holders `channel` has.
    public func holders(of channel: String) -> Int {
        entries.withLock { $0[channel]?.holders ?? 0 }
    }

    /// Holds `channel` once more; returns its value once the channel is subscribed.
    /// - Throws: the subscription's error; this retain is then given back.
    @discardableResult
    public func retain(
        _ channel: String, make: () -> Value,
        onSubscribed: @escaping @Sendable (RedisSubscription, Value) -> Void = { _, _ in }
    ) async throws(RedisError) -> Value {
        let (value, opening) = entries.withLock { entries -> (Value, Opening) in
            if var entry = entries[channel] {
                entry.holders += 1
                entries[channel] = entry
                return (entry.value, entry.opening)
            }
            let value = make()
            let opening = Opening { [subscriber] in
                do throws(RedisError) {
                    let subscription = try await subscriber.subscribe([channel])
                    onSubscribed(subscription, value)
                    return .success(subscription)
                } catch {
                    return .failure(error)
                }
            }
            entries[channel] = Entry(value: value, opening: opening, holders: 1)
            return (value, opening)
        }
        if case .failure(let error) = await opening.value {
            await release(channel)
            throw error
        }
        return value
    }

    /// Lets go of `channel` once; the last holder unsubscribes. Returns whether that was the last.
    @discardableResult
    public func release(_ channel: String) async -> Bool {
        let opening = entries.withLock { entries -> Opening? in
            guard var entry = entries[channel] else { return nil }
            entry.holders -= 1
            guard entry.holders <= 0 else {
                entries[channel] = entry
                return nil
            }
            entries[channel] = nil
            return entry.opening
        }
        guard let opening else { return false }
        if case .success(let subscription) = await opening.value { await subscription.unsubscribe() }
        return true
    }
}
