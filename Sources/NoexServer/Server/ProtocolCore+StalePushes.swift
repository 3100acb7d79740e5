import NoexJSON
import NoexLoop

extension ProtocolCore {
    /// The transport dropped the newest push of these subscriptions (the client was over its
    /// hard write limit) and the client's queue has now drained: send each subscription's
    /// current result (the store's latest for it), so a slow client misses intermediate
    /// results only, never the latest. A push key is the `N` of the subscription's `sub-N`;
    /// subscriptions that ended meanwhile are skipped.
    public func resendStalePushes(_ id: ConnectionID, keys: [UInt64]) {
        guard let state = connections[id] else { return }
        let deltaKeys = keys.filter(DeltaPushKey.isDelta)
        if !deltaKeys.isEmpty { resyncDeltaStreams(id, keys: deltaKeys) }
        for key in keys where !DeltaPushKey.isDelta(key) {
            let wireID = "sub-\(key)"
            guard let sub = state.storeSubscriptions[wireID], let result = store.lastResult(of: sub) else { continue }
            push(id, ServerMessage.subscriptionPushBytes(subscriptionId: wireID, serializedData: result.serializedBytes),
                 kind: .coalescingPush(key: key))
        }
    }
}
