import Prometheus

/// The messages service's own counters on `/metrics`, beside the HTTP ones every service has.
struct MessageMetrics: Sendable {
    /// Messages stored (rooms that record messages); `messages_stored_total`.
    private let stored: Counter
    /// Room access checks answered from ``RoomAccessCache``; `room_access_cache_hits_total`.
    private let accessHits: Counter
    /// Room access checks that went to the database; `room_access_cache_misses_total`.
    private let accessMisses: Counter

    /// Registers the counters in `registry`.
    init(registry: PrometheusCollectorRegistry) {
        stored = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "messages_stored", unitName: "total", helpText: "Messages stored"))
        accessHits = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "room_access_cache_hits", unitName: "total", helpText: "Room access checks answered from the cache"))
        accessMisses = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "room_access_cache_misses", unitName: "total", helpText: "Room access checks read from the database"))
    }

    /// Counts one stored message.
    func messageStored() {
        stored.increment()
    }

    /// Counts one room access check, answered from the cache (`hit`) or the database.
    func accessChecked(hit: Bool) {
        (hit ? accessHits : accessMisses).increment()
    }
}
