import COpenSSL
import NoexJSON
import NoexStore

/// The built-in identity (docs/identity.md): its system buckets in the application's store (so
/// every storage engine persists them), the permission cache, sessions and the login limiter.
///
/// Loop-confined, like the store. Password hashing is the only slow part; the operations hand
/// it to the core as a `DeferredAnswer`, which runs it on libuv's threadpool.
final class IdentityManager {
    static let superadminId = "__superadmin__"

    let store: Store
    let config: BuiltInAuthConfig
    private(set) var cache = IdentityCache()
    var limiter: LoginLimiter
    private var listener: ListenerID?

    /// Defines the system buckets that are missing. Call before a storage engine loads, so their
    /// stored records land in them; `start` seeds the roles after the load.
    init(store: Store, config: BuiltInAuthConfig) throws(StoreError) {
        self.store = store
        self.config = config
        limiter = LoginLimiter(config.loginRateLimit)
        for (name, definition) in IdentitySchema.definitions(sessionTtlMs: config.sessionTtlMs) where !store.hasBucket(name) {
            try store.defineBucket(name, config: definition)
        }
    }

    /// After loading: seeds the system roles that are missing and fills the cache, which from
    /// now on follows the store's events of the four tables it mirrors.
    func start() throws(StoreError) {
        for role in IdentitySchema.systemRoles where try store.findOne(bucket: SystemBuckets.roles, filter: ["name": .string(role.name)]) == nil {
            _ = try store.insert(bucket: SystemBuckets.roles, record: [
                "name": .string(role.name), "description": .string(role.description), "system": true,
                "permissions": [["allow": .array(role.allow.map { .string($0) })]],
            ])
        }
        let mirrored: Set<String> = [SystemBuckets.roles, SystemBuckets.userRoles, SystemBuckets.acl, SystemBuckets.resourceOwners]
        for b in mirrored { cache.reload(b, from: store) }
        cache.loadUsers(from: store)
        listener = store.addEventListener(pattern: "bucket.*.*") { [unowned self] event in
            if mirrored.contains(event.bucket) {
                self.cache.reload(event.bucket, from: self.store)
            } else if event.bucket == SystemBuckets.users {
                self.cache.userChanged(event)
            }
        }
    }

    /// Changes whenever permissions may have changed.
    var generation: Int { cache.generation }

    func stop() {
        if let listener { store.removeEventListener(listener) }
        listener = nil
    }

    // MARK: - Records

    func user(id: String) -> JSONObject? { try? store.get(bucket: SystemBuckets.users, key: .string(id)) }

    func user(named username: String) -> JSONObject? {
        try? store.findOne(bucket: SystemBuckets.users, filter: ["username": .string(username)])
    }

    func role(id: String) -> JSONObject? { try? store.get(bucket: SystemBuckets.roles, key: .string(id)) }

    func role(named name: String) -> JSONObject? {
        try? store.findOne(bucket: SystemBuckets.roles, filter: ["name": .string(name)])
    }

    func records(_ bucket: String, _ filter: JSONObject) -> [JSONObject] {
        (try? store.where(bucket: bucket, filter: filter)) ?? []
    }

    /// Deletes records, ignoring ones already gone.
    func deleteAll(_ bucket: String, _ filter: JSONObject) {
        for r in records(bucket, filter) { if let id = r["id"] { _ = try? store.delete(bucket: bucket, key: id) } }
    }

    /// UserInfo: the record without `passwordHash` and `_version`, keys in the documented order.
    static func userInfo(_ r: JSONObject) -> JSON {
        ordered(r, ["id", "username", "displayName", "email", "enabled", "metadata", "_createdAt", "_updatedAt"])
    }

    /// RoleInfo: the record without `_version`, keys in the documented order.
    static func roleInfo(_ r: JSONObject) -> JSON {
        ordered(r, ["id", "name", "description", "system", "permissions", "_createdAt", "_updatedAt"])
    }

    private static func ordered(_ r: JSONObject, _ keys: [String]) -> JSON {
        var o: JSONObject = [:]
        for k in keys { if let v = r[k] { o[k] = v } }
        return .object(o)
    }

    // MARK: - Sessions

    /// A new `_sessions` record; its id is the token. With `maxSessionsPerUser`, the user's
    /// oldest stored sessions are deleted first so the new one fits under the cap.
    func createSession(userId: String, ip: String, nowMs: Int64) throws(ServerError) -> (token: String, expiresAt: Int64) {
        if let cap = config.maxSessionsPerUser { evictOldestSessions(of: userId, keeping: cap - 1) }
        let token = SecureRandom.uuid()
        let expiresAt = nowMs + config.sessionTtlMs
        do {
            _ = try store.insert(bucket: SystemBuckets.sessions, record: [
                "id": .string(token), "userId": .string(userId), "expiresAt": .int(expiresAt),
                "createdAt": .int(nowMs), "ip": .string(ip),
            ])
        } catch { throw .internalServerError }
        return (token, expiresAt)
    }

    /// Deletes the user's oldest sessions (by `createdAt`, then token) until `keeping` remain.
    /// A connection already logged in with an evicted token keeps its session until it expires,
    /// as after any other deletion of stored sessions; the token can no longer log in or refresh.
    private func evictOldestSessions(of userId: String, keeping: Int) {
        let sessions = records(SystemBuckets.sessions, ["userId": .string(userId)])
        guard sessions.count > keeping else { return }
        let oldestFirst = sessions.sorted {
            let a = $0["createdAt"]?.intValue ?? 0, b = $1["createdAt"]?.intValue ?? 0
            return a != b ? a < b : ($0["id"]?.stringValue ?? "") < ($1["id"]?.stringValue ?? "")
        }
        for s in oldestFirst.prefix(sessions.count - keeping) {
            if let id = s["id"] { _ = try? store.delete(bucket: SystemBuckets.sessions, key: id) }
        }
    }

    /// The session of a token: the record must exist and not be expired (an expired one is
    /// deleted); the user (unless the superadmin) must exist and be enabled.
    func validSession(_ token: String, nowMs: Int64) -> JSONObject? {
        guard let s = try? store.get(bucket: SystemBuckets.sessions, key: .string(token)) else { return nil }
        guard let expiresAt = s["expiresAt"]?.intValue, expiresAt >= nowMs else {
            _ = try? store.delete(bucket: SystemBuckets.sessions, key: .string(token))
            return nil
        }
        return s
    }

    /// `auth.login` with a built-in token: the user's current roles and the session's expiry.
    func validateToken(_ token: String, nowMs: Int64) -> AuthSession? {
        guard let s = validSession(token, nowMs: nowMs), let userId = s["userId"]?.stringValue else { return nil }
        if userId != Self.superadminId {
            guard let u = user(id: userId), u["enabled"]?.boolValue != false else { return nil }
        }
        return AuthSession(userId: userId, roles: cache.roleNames(of: userId), expiresAt: s["expiresAt"]?.intValue)
    }

    func deleteSessions(ofUser userId: String) { deleteAll(SystemBuckets.sessions, ["userId": .string(userId)]) }

    /// The loginWithSecret comparison, in constant time for equal lengths.
    func secretMatches(_ secret: String) -> Bool {
        let a = Array(secret.utf8), b = Array(config.adminSecret.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    // MARK: - Ownership of store resources (defineBucket / defineQuery)

    /// After a successful store admin operation: `defineBucket` / `defineQuery` make the caller
    /// the owner; `dropBucket` / `undefineQuery` remove the owner record and the ACL entries.
    func storeAdminSucceeded(_ type: String, name: String, userId: String?, nowMs: Int64) {
        let resourceType: String
        let created: Bool
        switch type {
        case "store.defineBucket": (resourceType, created) = ("bucket", true)
        case "store.defineQuery": (resourceType, created) = ("query", true)
        case "store.dropBucket": (resourceType, created) = ("bucket", false)
        case "store.undefineQuery": (resourceType, created) = ("query", false)
        default: return
        }
        let resource: JSONObject = ["resourceType": .string(resourceType), "resourceName": .string(name)]
        deleteAll(SystemBuckets.resourceOwners, resource)
        if created, let userId {
            var record = resource
            record["userId"] = .string(userId)
            record["createdAt"] = .int(nowMs)
            _ = try? store.insert(bucket: SystemBuckets.resourceOwners, record: record)
        } else if !created {
            deleteAll(SystemBuckets.acl, resource)
        }
    }
}
