import NoexJSON
import NoexLoop
import NoexStore

/// The protocol state of one open connection (the original's connection actor state).
///
/// A class so that a request updates it in place with one registry lookup, instead of copying
/// it out of the registry and writing it back (a measurable share of a `store.get`).
final class ConnectionState {
    let id: ConnectionID
    /// `conn-N`, the public id (registry, stats).
    let connectionId: String
    let number: Int
    let remoteAddress: String
    let connectedAt: Int64
    var session: AuthSession?
    /// Built-in identity: the token of the session `identity.login` / `refreshSession` made here
    /// (`auth.login` with a token does not set it, as in the original).
    var identityToken: String?
    /// An answer is being computed off the loop (password hashing); later frames wait in
    /// `waiting`, so answers stay in request order.
    var inFlight = false
    var waiting: [[UInt8]] = []
    var waitingBytes = 0
    /// Reading is held at the transport while frames wait.
    var readHeld = false
    /// Wire id (`sub-N`) → store subscription.
    var storeSubscriptions: [String: SubscriptionID] = [:]
    /// Wire id (`sub-N`) → rule-engine subscription.
    var rulesSubscriptions: [String: Int] = [:]
    /// Wire id → the request that made the subscription, re-checked when the session changes.
    var subscriptionRequests: [String: Request] = [:]
    /// Wall time of the last ping sent; a pong must carry a timestamp at least this large.
    var lastPingAt: Int64 = 0
    /// Event pushes the transport dropped on this connection (over the hard write limit).
    var droppedPushes = 0

    init(id: ConnectionID, connectionId: String, number: Int, remoteAddress: String, connectedAt: Int64) {
        self.id = id
        self.connectionId = connectionId
        self.number = number
        self.remoteAddress = remoteAddress
        self.connectedAt = connectedAt
    }

    var subscriptionCount: Int { storeSubscriptions.count + rulesSubscriptions.count }

    /// The registry entry (docs/protocol/auth.md#server-operations), in the original's key order.
    var info: JSON {
        [
            "connectionId": .string(connectionId),
            "remoteAddress": .string(remoteAddress),
            "connectedAt": .int(connectedAt),
            "authenticated": .bool(session != nil),
            "userId": session.map { .string($0.userId) } ?? .null,
            "roles": session?.rolesJSON ?? [],
            "storeSubscriptionCount": .int(Int64(storeSubscriptions.count)),
            "rulesSubscriptionCount": .int(Int64(rulesSubscriptions.count)),
        ]
    }
}
