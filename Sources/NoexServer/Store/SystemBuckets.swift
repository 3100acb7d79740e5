import NoexJSON
import NoexStore

/// Buckets the server keeps for itself: the built-in identity's tables, the audit trail and the
/// registered procedures. They live in the application's store so that every storage engine
/// persists them, and this guard keeps data operations away from them (docs/security.md).
///
/// With built-in identity every `_`-prefixed name is guarded, as in the original. Without it
/// only the server's own names are: an application's `_drafts` bucket stays reachable, while the
/// audit trail and the procedure table cannot be read or forged by a client.
public struct SystemBuckets: Sendable {
    public static let users = "_users"
    public static let roles = "_roles"
    public static let userRoles = "_user_roles"
    public static let acl = "_acl"
    public static let resourceOwners = "_resource_owners"
    public static let sessions = "_sessions"
    public static let audit = "_audit"
    public static let procedures = "_procedures"

    public static let serverOwned: Set<String> = [users, roles, userRoles, acl, resourceOwners, sessions, audit, procedures]

    /// Built-in identity on: every `_` name is the server's.
    public var allUnderscored: Bool

    public init(allUnderscored: Bool = false) { self.allUnderscored = allUnderscored }

    public func isGuarded(_ bucket: String) -> Bool {
        // Every guarded name starts with `_`: one byte decides for almost every request.
        guard bucket.utf8.first == UInt8(ascii: "_") else { return false }
        return allUnderscored || Self.serverOwned.contains(bucket)
    }

    /// The guard for one `store.*` request, before it runs: its `bucket` / `name` field, every
    /// transaction operation's bucket, and the buckets a subscribed query reads (`queryBuckets`).
    func check(_ r: Request, queryBuckets: (String) -> [String]?) throws(ServerError) {
        if let b = r.members.bucket?.stringValue, isGuarded(b) { throw Self.direct(b) }
        // `name` has no field of its own: with no extra members there is none to look up.
        if !r.members.extras.isEmpty, let b = r["name"]?.stringValue, isGuarded(b) { throw Self.direct(b) }
        switch r.operation {
        case .storeTransaction:
            for (_, bucket) in TransactionAccess.operations(of: r) where isGuarded(bucket) {
                throw ServerError(.forbidden, "Cannot access system bucket \"\(bucket)\" in transaction")
            }
        case .storeSubscribe:
            guard let q = r["query"]?.stringValue, let read = queryBuckets(q) else { return }
            try checkRead(read)
        default: return
        }
    }

    /// A query must not read a guarded bucket (checked when it is defined and when subscribed).
    func checkRead(_ buckets: [String]) throws(ServerError) {
        if let b = buckets.first(where: isGuarded) { throw Self.direct(b) }
    }

    static func direct(_ bucket: String) -> ServerError {
        ServerError(.forbidden, "Cannot access system bucket \"\(bucket)\" directly")
    }

    /// `store.buckets` without the guarded names (`store.stats` keeps them, as the original).
    func visible(_ info: JSONObject) -> JSONObject {
        guard case .array(let names)? = info["names"] else { return info }
        let shown = names.filter { !isGuarded($0.stringValue ?? "") }
        return ["count": .int(Int64(shown.count)), "names": .array(shown)]
    }
}
