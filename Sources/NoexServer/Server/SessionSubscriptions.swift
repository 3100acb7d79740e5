import NoexJSON

/// Subscriptions follow the session that made them: when a connection's session ends or
/// changes (logout, expiry, re-login as someone else, a failed login that clears it), every
/// subscription whose `subscribe` request the new state would refuse is removed and the
/// client is told, one `subscription_ended` system message per subscription. Revocation
/// removes them all before its notice, so nothing is pushed after it.
extension ProtocolCore {
    /// Why a subscription ended, as the `reason` of the system message.
    enum SubscriptionEndReason: String {
        case loggedOut = "logged_out"
        case sessionExpired = "session_expired"
        case forbidden
    }

    /// After a request: if it changed the session, re-check the connection's subscriptions.
    func sessionMayHaveChanged(_ state: ConnectionState, from before: AuthSession?) {
        guard state.session != before else { return }
        let reason: SubscriptionEndReason
        if state.session != nil {
            reason = .forbidden
        } else if before?.isExpired(nowMs: clock.wallMs()) == true {
            reason = .sessionExpired
        } else {
            reason = .loggedOut
        }
        endRefusedSubscriptions(state, holder: state.session, reason: reason)
    }

    /// From the sweep timer: subscriptions of sessions whose `expiresAt` has passed end now, not
    /// at the connection's next request. The session itself stays until that request, which
    /// still answers `UNAUTHORIZED "Session expired"` as the original does.
    func expireSessions() {
        let now = clock.wallMs()
        let expired = connections.values.filter {
            !$0.subscriptionRequests.isEmpty && $0.session?.isExpired(nowMs: now) == true
        }
        for state in expired.sorted(by: { $0.number < $1.number }) {
            endRefusedSubscriptions(state, holder: nil, reason: .sessionExpired)
        }
    }

    /// Removes each subscription whose original request `holder` (the session as it is now or
    /// is about to be) may not send.
    func endRefusedSubscriptions(_ state: ConnectionState, holder: AuthSession?, reason: SubscriptionEndReason) {
        let now = clock.wallMs()
        let ids = state.subscriptionRequests.keys.sorted { Self.subscriptionNumber($0) < Self.subscriptionNumber($1) }
        for wireID in ids {
            var session = holder
            let request = state.subscriptionRequests[wireID]!
            guard gate.check(request, session: &session, nowMs: now, queryBuckets: store.bucketsRead(byQuery:)) != nil
            else { continue }
            removeSubscription(state, wireID)
            let message = ServerMessage.subscriptionEnded(subscriptionId: wireID, reason: reason.rawValue)
            transport.send(state.id, text: message.serializedBytes, kind: .response)
        }
    }

    /// Removes every subscription of a connection without telling it (revocation, close).
    func removeAllSubscriptions(_ state: ConnectionState) {
        for wireID in Array(state.storeSubscriptions.keys) + Array(state.rulesSubscriptions.keys) {
            removeSubscription(state, wireID)
        }
    }

    func removeSubscription(_ state: ConnectionState, _ wireID: String) {
        state.subscriptionRequests[wireID] = nil
        if let sub = state.storeSubscriptions.removeValue(forKey: wireID) {
            store.unsubscribe(sub)
            deltaStreams.streams[UInt64(Self.subscriptionNumber(wireID))] = nil
            totalSubscriptions -= 1
        } else if let sub = state.rulesSubscriptions.removeValue(forKey: wireID) {
            _ = rules?.unsubscribe(sub)
            totalSubscriptions -= 1
        }
    }

    private static func subscriptionNumber(_ wireID: String) -> Int { Int(wireID.dropFirst(4)) ?? 0 }
}
