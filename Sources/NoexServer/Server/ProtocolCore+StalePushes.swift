import NoexJSON
import NoexLoop

extension ProtocolCore {
    /// The transport dropped the newest push of these subscriptions (the client was over its
    /// hard write limit) and the client's queue has now drained: send each subscription's
    /// current result, so a slow client misses intermediate results only, never the latest.
    /// Keys of subscriptions that ended meanwhile are skipped.
    public func resendStalePushes(_ id: ConnectionID, keys: [UInt64]) {
        guard let state = connections[id] else { return }
        for key in keys {
            guard let source = state.subscriptionQueries[key] else { continue }
            guard state.storeSubscriptions[source.wireID] != nil else {
                state.subscriptionQueries[key] = nil
                continue
            }
            guard let result = try? store.runQuery(source.query, params: source.params) else { continue }
            push(id, ServerMessage.subscriptionPushBytes(subscriptionId: source.wireID, serializedData: result.serializedBytes),
                 kind: .coalescingPush(key: key))
        }
    }
}
