import Prometheus
import VoiceFlowCommon

/// The signaling service's own figures on `/metrics`, beside the HTTP ones every service has.
struct SignalingMetrics: Sendable {
    /// Voice sessions open on every gateway (as of the last sweep); `voice_sessions`.
    private let sessions: Gauge
    /// Sessions started; `voice_joins_total`.
    private let joins: Counter
    /// Joins refused because the room's voice was full; `voice_full_total`.
    private let full: Counter
    /// Sessions ended, by reason; `voice_leaves_total{reason}`.
    private let leaves: [VoiceLeaveReason: Counter]
    /// TURN credentials minted; `voice_turn_credentials_total`.
    private let credentials: Counter
    /// `voice:signal`s relayed by every gateway (they count them in Redis; as of the last sweep);
    /// `voice_signals_relayed`.
    private let signals: Gauge

    /// Registers the figures in `registry`.
    init(registry: PrometheusCollectorRegistry) {
        sessions = registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: "voice_sessions", unitName: "", helpText: "Voice sessions open on every gateway"))
        joins = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "voice_joins", unitName: "total", helpText: "Voice sessions started"))
        full = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "voice_full", unitName: "total", helpText: "Voice joins refused: the room's voice was full"))
        var leaves: [VoiceLeaveReason: Counter] = [:]
        for reason in VoiceLeaveReason.allCases {
            leaves[reason] = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: "voice_leaves", unitName: "total", helpText: "Voice sessions ended, by reason"),
                labels: [("reason", reason.rawValue)])
        }
        self.leaves = leaves
        credentials = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "voice_turn_credentials", unitName: "total", helpText: "TURN credentials minted"))
        signals = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "voice_signals_relayed", unitName: "", helpText: "voice:signal messages relayed between sessions by every gateway"))
    }

    /// Counts a started session and the TURN credentials minted for it.
    func joined(turnCredentials: Int) {
        joins.increment()
        if turnCredentials > 0 { credentials.increment(by: Int64(turnCredentials)) }
    }

    /// Counts a join refused with `VOICE_FULL`.
    func refusedFull() { full.increment() }

    /// Counts an ended session.
    func ended(_ reason: VoiceLeaveReason) { leaves[reason]?.increment() }

    /// What the last sweep saw.
    func observed(sessions count: Int, signalsRelayed: Int) {
        sessions.set(Int64(count))
        signals.set(Int64(signalsRelayed))
    }
}
