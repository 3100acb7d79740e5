import NoexJSON
import NoexStore

/// Built-in identity in the core (docs/identity.md): installing it, routing `identity.*`, and
/// ending subscriptions a permission change took away.
extension ProtocolCore {
    /// Built-in mode: the gate checks data operations with the identity's `isAllowed`, `auth.login`
    /// accepts its session tokens, and every `_` bucket is guarded (also for the rules bridge,
    /// which the caller connects with `storeOps.systemBuckets`).
    func installIdentity(_ identity: IdentityManager) {
        precondition(connections.isEmpty, "installIdentity with connected clients")
        self.identity = identity
        let clock = clock
        let auth = AuthConfig(required: true) { [unowned identity] token in identity.validateToken(token, nowMs: clock.wallMs()) }
        config.auth = auth
        gate = AuthGate(auth: auth, identity: identity)
        authOps = AuthOperations(auth: auth)
        storeOps.systemBuckets.allUnderscored = true
        checkedIdentityGeneration = identity.generation
    }

    func routeIdentity(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        guard let identity else { throw .identityNotConfigured }
        // The gate already refused these; kept so that no path reaches an operation without a session.
        if state.session == nil, r.type != "identity.login", r.type != "identity.loginWithSecret" {
            throw .authenticationRequired
        }
        switch try identity.handle(r, state, nowMs: clock.wallMs(), monotonicMs: clock.monotonicMs()) {
        case .done(let data): return data
        case .deferred(let work):
            deferredAnswer = work
            return .null
        }
    }

    /// Roles, assignments, ACL, ownership or a user's enabled flag changed: every subscription
    /// whose holder may no longer make it ends with `subscription_ended` (reason `forbidden`).
    func permissionsChanged() {
        guard let identity else { return }
        checkedIdentityGeneration = identity.generation
        for state in connections.values.sorted(by: { $0.number < $1.number }) where !state.subscriptionRequests.isEmpty {
            endRefusedSubscriptions(state, holder: state.session, reason: .forbidden)
        }
    }
}
