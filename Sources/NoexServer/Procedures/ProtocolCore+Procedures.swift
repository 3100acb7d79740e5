import NoexJSON

extension ProtocolCore {
    /// `procedures.*`: each store or rules step of a call passes the same checks as a standalone
    /// request of that type on that resource, as this connection's session (docs/procedures.md#permissions).
    func routeProcedures(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let ops = ProceduresOperations(
            store: store, rules: rules, limits: config.procedures, journal: storeOps.durable
        ) { [unowned self] (step: Request) throws(ServerError) in
            var session = state.session
            if let denied = self.gate.check(step, session: &session, nowMs: self.clock.wallMs()) { throw denied }
            try self.storeOps.systemBuckets.check(step, queryBuckets: { _ in nil })
        }
        return try ops.handle(r)
    }
}
