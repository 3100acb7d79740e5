import NoexJSON

extension ProtocolCore {
    /// `procedures.*`: each store or rules step of a call passes the same checks as a standalone
    /// request of that type on that resource, as this connection's session (docs/procedures.md#permissions).
    func routeProcedures(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try procedureOperations(session: { state.session }, nowMs: { [unowned self] in self.clock.wallMs() }).handle(r)
    }

    /// The operations with steps checked as `session()`'s standalone requests at `nowMs()`.
    func procedureOperations(session: @escaping () -> AuthSession?, nowMs: @escaping () -> Int64) -> ProceduresOperations {
        ProceduresOperations(
            store: store, rules: rules, limits: config.procedures, journal: storeOps.durable
        ) { [unowned self] (step: Request) throws(ServerError) in
            var current = session()
            if let denied = self.gate.check(step, session: &current, nowMs: nowMs()) { throw denied }
            try self.storeOps.systemBuckets.check(step, queryBuckets: { _ in nil })
        }
    }
}
