import Foundation
import Prometheus
import Synchronization
import VoiceFlowSocketIO

/// The live path's figures on `/metrics`, beside the HTTP counters every service has.
///
/// Counters and histograms are made once and kept, so the hot path (one increment per delivery)
/// never looks a metric up by name. Gauges that describe the present (sockets, open rooms) are
/// set from their source when `/metrics` is scraped, see ``refresh(namespace:openRooms:)``.
final class GatewayMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let deliveries: Counter
    private let gapFills: Counter
    private let gapFillMessages: Counter
    private let reorderWaits: Counter
    private let slowConsumerDisconnects: Counter
    private let pubSubMessages: Counter
    private let pubSubLag: DurationHistogram
    private let deliveryLatency: DurationHistogram
    private let socketsByTransport: [String: Gauge]
    private let roomsOpen: Gauge
    private let voiceSignals: Counter
    private let voiceSignalLatency: DurationHistogram
    private let eventCounters = Mutex<[String: Counter]>([:])

    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(5),
    ]

    private static func descriptor(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: unit, helpText: help)
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        deliveries = registry.makeCounter(
            descriptor: Self.descriptor("gateway_deliveries", unit: "total", "Messages written to sockets (one per socket per message)"))
        gapFills = registry.makeCounter(
            descriptor: Self.descriptor("gateway_gap_fills", unit: "total", "Gaps in a room's stream filled from history"))
        gapFillMessages = registry.makeCounter(
            descriptor: Self.descriptor("gateway_gap_fill_messages", unit: "total", "Messages fetched from history to fill gaps"))
        reorderWaits = registry.makeCounter(
            descriptor: Self.descriptor(
                "gateway_reorder_waits", unit: "total", "Live messages held in a room's reorder buffer until their turn"))
        slowConsumerDisconnects = registry.makeCounter(
            descriptor: Self.descriptor(
                "gateway_slow_consumer_disconnects", unit: "total", "Sockets cut off because their outgoing queue was full"))
        pubSubMessages = registry.makeCounter(
            descriptor: Self.descriptor("gateway_pubsub_messages", unit: "total", "Room events received from Redis"))
        pubSubLag = registry.makeDurationHistogram(
            descriptor: Self.descriptor("gateway_pubsub_lag", unit: "seconds", "Room event publish to receive"),
            buckets: Self.latencyBuckets)
        deliveryLatency = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "gateway_delivery_latency", unit: "seconds", "Message publish (just after its commit) to write on the sockets"),
            buckets: Self.latencyBuckets)
        let sockets = Self.descriptor("gateway_sockets", unit: "", "Connected sockets by transport")
        socketsByTransport = Dictionary(
            uniqueKeysWithValues: ["polling", "websocket"].map { ($0, registry.makeGauge(descriptor: sockets, labels: [("transport", $0)])) })
        roomsOpen = registry.makeGauge(descriptor: Self.descriptor("gateway_rooms_open", unit: "", "Rooms with an open stream on this gateway"))
        voiceSignals = registry.makeCounter(
            descriptor: Self.descriptor("gateway_voice_signals", unit: "total", "voice:signal messages relayed from this gateway's sockets"))
        voiceSignalLatency = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "gateway_voice_signal_latency", unit: "seconds", "voice:signal relay, sending gateway to the write on the receiving socket"),
            buckets: Self.latencyBuckets)
    }

    /// One `voice:signal` relayed from a socket of this gateway.
    func voiceSignalRelayed() { voiceSignals.increment() }

    /// One `voice:signal` written to its socket here.
    func deliveredVoiceSignal(publishedAt: Double?) {
        if let publishedAt { voiceSignalLatency.record(Self.since(publishedAt)) }
    }

    /// `count` messages written to one socket.
    func delivered(_ count: Int = 1) { deliveries.increment(by: Int64(count)) }

    /// A gap filled from history with `messages` messages.
    func filledGap(messages: Int) {
        gapFills.increment()
        gapFillMessages.increment(by: Int64(messages))
    }

    /// A live message that waited for its turn.
    func heldForReorder() { reorderWaits.increment() }

    /// A socket cut off because its queue overflowed.
    func cutOffSlowConsumer() { slowConsumerDisconnects.increment() }

    /// A room event arrived from Redis; `publishedAt` (seconds since 1970) gives its lag.
    func receivedFromPubSub(publishedAt: Double?) {
        pubSubMessages.increment()
        if let publishedAt { pubSubLag.record(Self.since(publishedAt)) }
    }

    /// A message published at `publishedAt` (seconds since 1970) was written to a room's sockets.
    func wroteMessage(publishedAt: Double) { deliveryLatency.record(Self.since(publishedAt)) }

    private static func since(_ time: Double) -> Duration {
        .nanoseconds(Int64(max(0, Date().timeIntervalSince1970 - time) * 1e9))
    }

    /// Counts one client event; names outside `known` share the label `unknown` (bounded cardinality).
    func received(event name: String, known: Bool) {
        let label = known ? name : "unknown"
        let counter = eventCounters.withLock { counters in
            if let counter = counters[label] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.descriptor("gateway_events_received", unit: "total", "Client events received by name"),
                labels: [("event", label)])
            counters[label] = counter
            return counter
        }
        counter.increment()
    }

    /// Sets the gauges of the present: sockets by transport, rooms open.
    func refresh(namespace: Namespace, openRooms: Int) {
        var counts = ["polling": 0, "websocket": 0]
        for socket in namespace.localSockets { counts[socket.transportName, default: 0] += 1 }
        for (transport, gauge) in socketsByTransport { gauge.set(Double(counts[transport] ?? 0)) }
        roomsOpen.set(Double(openRooms))
    }
}
