import AsyncHTTPClient
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import UnixSignals
import VoiceFlowCommon
import VoiceFlowRedis
import VoiceFlowSocketIO
import VoiceFlowSocketIORedis

/// Builds a gateway: the Socket.IO endpoint at `/socket.io/`, fanned out over Redis, with
/// presence shared by every gateway; plus `/health`, `/ready` and `/metrics`.
///
/// New sockets are admitted once the readiness monitor's first pass finds Redis (commands and
/// pub/sub) up, and refused (503) whenever it finds them lost; open sockets stay.
///
/// The returned group stops in reverse order on SIGTERM/SIGINT: first readiness (`/ready` answers
/// 503 at once, so the edge stops routing here), then the Socket.IO engine (no new sessions, every socket is closed so clients
/// reconnect elsewhere, and disconnect cleanup runs while Redis is still up), then the HTTP server,
/// then the rest.
public func buildGateway(configuration: GatewayConfiguration, logger: Logger) async throws -> ServiceGroup {
    let service = configuration.service
    let redis = RedisClient(configuration: service.redis, logger: logger)
    let subscriber = RedisSubscriber(configuration: service.redis, logger: logger)
    let adapters = RedisAdapterGroup(client: redis, subscriber: subscriber, logger: logger, prefix: "vf:sio")
    let io = SocketIOServer(configuration: configuration.socket, logger: logger, adapter: adapters.adapter(for:))
    let verifier = try await TokenVerifier.load(service.tokenKeys, mode: service.mode)
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    let upstream = Upstream(
        http: http, roomsURL: configuration.roomsURL, messagesURL: configuration.messagesURL, signalingURL: configuration.signalingURL,
        logger: logger)
    let presence = PresenceStore(redis: redis, gatewayID: configuration.gatewayID, ttl: configuration.presenceTTL)
    let metrics = PrometheusCollectorRegistry()
    let gatewayMetrics = GatewayMetrics(registry: metrics)
    let voice = VoiceRelay(
        gatewayID: configuration.gatewayID, upstream: upstream, redis: redis, subscriber: subscriber, namespace: io.sockets,
        metrics: gatewayMetrics, logger: logger)
    let relay = RoomEventRelay(
        subscriber: subscriber, namespace: io.sockets, presence: presence, history: upstream,
        streamSettings: configuration.stream, metrics: gatewayMetrics,
        audit: MembershipAudit(directory: upstream, period: configuration.membershipRecheckPeriod), voice: voice, logger: logger)
    GatewayEvents(
        namespace: io.sockets, verifier: verifier, upstream: upstream, presence: presence, relay: relay, voice: voice,
        configuration: configuration, logger: logger
    ).install()
    let heartbeat = PresenceHeartbeat(
        presence: presence, namespace: io.sockets, reconcilePeriod: configuration.presenceReconcilePeriod, logger: logger)
    let credentials = CredentialWatch(namespace: io.sockets, subscriber: subscriber, logger: logger)

    let router = Router(context: VoiceFlowRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(registry: metrics))
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: SecurityHeadersMiddleware(hstsEnabled: service.hstsEnabled))
    router.add(middleware: ErrorMappingMiddleware())
    // `/health` and `/ready` are answered on the event loop from the monitor's last pass
    // (HealthFastPath below), never queued behind socket work: a connect storm cannot get this
    // gateway ejected by the edge.
    let readiness = ReadinessMonitor(
        checks: [
            // A ping slow to come back while the gateway is saturated (a connect storm) is not a
            // lost Redis: three failed passes in a row are.
            ReadinessCheck(name: "redis", tolerance: 2) { try await redis.ping() },
            ReadinessCheck(name: "redis-subscriber", tolerance: 2) {
                guard subscriber.isAttached else { throw APIError.serviceUnavailable }
            },
            ReadinessCheck(name: "accepting") {
                guard io.engine.isAccepting else { throw APIError.serviceUnavailable }
            },
        ],
        logger: logger,
        // New sockets are admitted only while this gateway is ready: one started (or restarted)
        // before its Redis connections are up refuses handshakes (503, Retry-After) instead of
        // admitting sockets whose presence and room subscriptions would wait on Redis.
        onVerdict: { ready in io.engine.setAdmissionPaused(!ready) })
    io.engine.setAdmissionPaused(true)
    HealthRoutes.addMetrics(
        to: router, metrics: metrics,
        beforeScrape: { gatewayMetrics.refresh(namespace: io.sockets, openRooms: relay.openRooms) })
    io.engine.addRoutes(to: router, path: "/socket.io")

    let application = Application(
        router: router,
        // WebSockets at /socket.io/ are served by the engine's channel handlers (no task per socket).
        server: .engineIO(["/socket.io": io.engine], configuration: .init(additionalChannelHandlers: [HealthFastPath(monitor: readiness)])),
        configuration: .init(address: .hostname(service.host, port: service.port), serverName: "voiceflow-gateway"),
        logger: logger)
    let healthListener: [any Service] = configuration.healthPort.map {
        [HealthListener(host: service.host, port: $0, monitor: readiness, logger: logger)]
    } ?? []
    return ServiceGroup(
        configuration: .init(
            services: [redis, subscriber, adapters, relay, voice, heartbeat, credentials, HTTPClientShutdown(client: http)] + healthListener + [application, io.engine, readiness],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
}
