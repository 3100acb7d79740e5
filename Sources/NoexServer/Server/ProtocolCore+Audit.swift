import NoexJSON

/// The audit log's two touch points in the request pipeline (docs/audit.md).
extension ProtocolCore {
    /// Records a handled request whose tier is audited, success or failure (auth and rate-limit
    /// rejections included). Called once the answer is decided and before it is handed to the
    /// transport: with durable storage the entry joins the request's commit batch, so the commit
    /// gate holds the answer until the entry is committed (and fsynced under `always`).
    func recordAudit(_ r: Request, _ state: ConnectionState, failure: ServerError?) {
        guard let audit, audit.records(r.type) else { return }
        audit.append(AuditEntry(
            timestamp: clock.wallMs(), userId: state.session?.userId, sessionId: state.connectionId,
            operation: r.type, resource: AuditFacts.resource(of: r), result: failure == nil ? .success : .error,
            error: failure.map { AuditFacts.clip($0.message, AuditFacts.maxErrorBytes) },
            details: AuditFacts.details(of: r), remoteAddress: state.remoteAddress))
    }

    /// `audit.*` (docs/protocol/audit.md). The answer is capped at half the connection's hard
    /// write limit, so a large trail cannot turn it into `BACKPRESSURE` or a huge buffer.
    func auditOperation(_ r: Request) throws(ServerError) -> JSON {
        guard let audit else { throw .auditNotConfigured }
        guard r.type == "audit.query" else { throw .unknownOperation(r.type, in: "audit") }
        let query = try AuditQuery(r)
        return ["entries": .array(audit.query(query, maxBytes: config.backpressure.maxBufferedBytes / 2))]
    }

    /// The audit log a config asks for; durable (the `_audit` bucket) when storage is.
    static func makeAuditLog(_ config: ServerConfig) -> AuditLog? {
        config.audit.map { AuditLog(config: $0, store: config.persistence == nil ? nil : config.store) }
    }
}
