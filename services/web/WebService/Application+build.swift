import Hummingbird
import Logging
import Prometheus
import VoiceFlowCommon

/// Builds the web service: the browser client's files, with `/health`, `/ready` and `/metrics`.
public func buildApplication(configuration: WebConfiguration, logger: Logger) -> some ApplicationProtocol {
    let metrics = PrometheusCollectorRegistry()
    let router = Router(context: VoiceFlowRequestContext.self)
    router.add(middleware: RequestMetricsMiddleware(registry: metrics))
    router.add(middleware: RequestIDMiddleware())
    router.add(
        middleware: SecurityHeadersMiddleware(hstsEnabled: configuration.hstsEnabled, contentSecurityPolicy: SiteController.contentSecurityPolicy))
    router.add(middleware: ErrorMappingMiddleware())
    HealthRoutes.add(to: router, checks: [], metrics: metrics)
    let site = SiteCache(root: configuration.root)
    if site.current() == nil {
        logger.warning("The web client is not built: its pages answer 503 until web/build.sh writes them", metadata: ["web.root": "\(configuration.root)"])
    }
    SiteController(site: site).addRoutes(to: router)
    router.answeringMethodNotAllowed()
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "voiceflow-web"),
        logger: logger)
}
