import NoexJSON
import NoexLoop

/// Answers the plain HTTP requests the transport offers (`onPlainRequest`): the metrics text at
/// `metricsPath`, the health JSON at `healthPath`, nothing elsewhere (the transport then keeps
/// its old answer, 404).
final class MonitoringEndpoints {
    let config: MonitoringConfig
    let registry: MetricsRegistry
    /// Whether the server is healthy, and the JSON to answer.
    private let health: () -> (ok: Bool, body: JSON)

    init(config: MonitoringConfig, registry: MetricsRegistry, health: @escaping () -> (ok: Bool, body: JSON)) {
        self.config = config
        self.registry = registry
        self.health = health
    }

    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    func respond(_ request: HTTPRequestHead) -> HTTPPlainResponse? {
        let path = request.path
        if let p = config.metricsPath, path == p {
            return HTTPPlainResponse(status: 200, reasonPhrase: "OK", contentType: Self.metricsContentType,
                                     body: Array(registry.render().utf8))
        }
        if let p = config.healthPath, path == p {
            let (ok, body) = health()
            return HTTPPlainResponse(status: ok ? 200 : 503, reasonPhrase: ok ? "OK" : "Service Unavailable",
                                     contentType: "application/json", body: body.serializedBytes)
        }
        return nil
    }
}

@available(*, unavailable)
extension MonitoringEndpoints: Sendable {}

extension NoexServer {
    /// `/health`: 200 `{"status":"ok","uptimeMs":…,"connections":…}` while running, 503
    /// `{"status":"stopping"}` from `stop` on (the grace period included).
    func healthAnswer() -> (ok: Bool, body: JSON) {
        guard isRunning else { return (false, ["status": "stopping"]) }
        if let node = core.cluster, let why = node.refusal { return (false, ["status": "halted", "reason": .string(why)]) }
        var body: JSONObject = [
            "status": "ok", "uptimeMs": .int(core.clock.wallMs() - startedAtMs),
            "connections": .int(Int64(core.connectionCount)),
        ]
        if let node = core.cluster { body["cluster"] = node.health(nowMs: core.clock.wallMs()) }
        return (true, .object(body))
    }
}
