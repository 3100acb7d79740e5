import NoexJSON
import NoexStore

/// What `isAllowed` needs, in memory: roles, who holds which role, ACL entries and owners.
///
/// Rebuilt table by table from the store's own events on the system buckets, synchronously: a
/// change made by one request applies to the very next request (the original reloads
/// asynchronously, so its changes take effect "almost immediately").
struct IdentityCache {
    struct Role {
        var id: String
        var name: String
        var permissions: [RolePermission]
    }

    /// One `{allow, buckets?, topics?}` entry of a role.
    struct RolePermission {
        var allow: [String]
        var buckets: [String]?
        var topics: [String]?

        init(_ json: JSON) {
            switch json["allow"] {
            case .string(let s)?: allow = [s]
            case .array(let a)?: allow = a.compactMap(\.stringValue)
            default: allow = []
            }
            buckets = json["buckets"]?.arrayValue.map { $0.compactMap(\.stringValue) }
            topics = json["topics"]?.arrayValue.map { $0.compactMap(\.stringValue) }
        }
    }

    struct ResourceKey: Hashable {
        var type: String
        var name: String
    }

    struct SubjectKey: Hashable {
        var subjectType: String
        var subjectId: String
        var resource: ResourceKey
    }

    private(set) var roles: [String: Role] = [:]
    private(set) var roleIdByName: [String: String] = [:]
    /// userId → role ids, in assignment order.
    private(set) var userRoles: [String: [String]] = [:]
    private(set) var acl: [SubjectKey: Set<String>] = [:]
    private(set) var owners: [ResourceKey: String] = [:]
    /// Users with `enabled: false`: denied every data operation, also on open connections.
    private(set) var disabledUsers: Set<String> = []
    /// Bumped on every change, so the server knows to re-check live subscriptions.
    private(set) var generation = 0

    /// A `_users` change: only the enabled flag matters here.
    mutating func userChanged(_ event: StoreEvent) {
        let id = event.key.stringValue ?? ""
        let disabled: Bool
        var deleted = false
        switch event {
        case .inserted(_, _, let r), .updated(_, _, _, let r): disabled = r["enabled"]?.boolValue == false
        case .deleted:
            disabled = false
            deleted = true
        }
        if disabledUsers.contains(id) != disabled || deleted {
            if disabled { disabledUsers.insert(id) } else { disabledUsers.remove(id) }
            generation += 1
        }
    }

    mutating func loadUsers(from store: Store) {
        disabledUsers = Set(((try? store.where(bucket: SystemBuckets.users, filter: ["enabled": false])) ?? []).compactMap { $0["id"]?.stringValue })
    }

    mutating func reload(_ bucket: String, from store: Store) {
        generation += 1
        let records = (try? store.all(bucket: bucket)) ?? []
        switch bucket {
        case SystemBuckets.roles:
            roles = [:]
            roleIdByName = [:]
            for r in records {
                guard let id = r["id"]?.stringValue, let name = r["name"]?.stringValue else { continue }
                let perms = (r["permissions"]?.arrayValue ?? []).map(RolePermission.init)
                roles[id] = Role(id: id, name: name, permissions: perms)
                roleIdByName[name] = id
            }
        case SystemBuckets.userRoles:
            userRoles = [:]
            for r in records {
                guard let u = r["userId"]?.stringValue, let role = r["roleId"]?.stringValue else { continue }
                userRoles[u, default: []].append(role)
            }
        case SystemBuckets.acl:
            acl = [:]
            for r in records {
                guard let key = Self.subjectKey(r) else { continue }
                acl[key, default: []].formUnion((r["operations"]?.arrayValue ?? []).compactMap(\.stringValue))
            }
        case SystemBuckets.resourceOwners:
            owners = [:]
            for r in records {
                guard let u = r["userId"]?.stringValue, let t = r["resourceType"]?.stringValue,
                      let n = r["resourceName"]?.stringValue else { continue }
                owners[ResourceKey(type: t, name: n)] = u
            }
        default: break
        }
    }

    static func subjectKey(_ r: JSONObject) -> SubjectKey? {
        guard let st = r["subjectType"]?.stringValue, let sid = r["subjectId"]?.stringValue,
              let t = r["resourceType"]?.stringValue, let n = r["resourceName"]?.stringValue else { return nil }
        return SubjectKey(subjectType: st, subjectId: sid, resource: ResourceKey(type: t, name: n))
    }

    /// The live role names of a user, in assignment order (the virtual superadmin has one).
    func roleNames(of userId: String) -> [String] {
        if userId == IdentityManager.superadminId { return ["superadmin"] }
        return (userRoles[userId] ?? []).compactMap { roles[$0]?.name }
    }

    /// The permission check of a data operation (docs/identity.md#permissions); first match wins.
    func isAllowed(userId: String, operation: String, resource: AccessResource) -> Bool {
        let roleIds = userId == IdentityManager.superadminId ? [] : (userRoles[userId] ?? [])
        if disabledUsers.contains(userId) { return false }
        // The transaction envelope: each of its operations is checked against its own bucket
        // next, so ACL grants and bucket-bound role permissions apply inside transactions too.
        if operation == "store.transaction", case .unconstrained = resource { return true }
        if userId == IdentityManager.superadminId || roleIds.contains(where: { roles[$0]?.name == "superadmin" }) { return true }
        let resourceType: String? = operation.hasPrefix("store.") ? "bucket"
            : operation.hasPrefix("rules.") ? "topic" : operation.hasPrefix("procedures.") ? "procedure" : nil
        let name = resource.text
        var specific = false
        if let resourceType, name != "*" {
            if case .name = resource { specific = true }
        }
        if specific, let resourceType {
            let key = ResourceKey(type: resourceType, name: name)
            if let aclOp = OperationTier.of(operation)?.rawValue {
                if acl[SubjectKey(subjectType: "user", subjectId: userId, resource: key)]?.contains(aclOp) == true { return true }
                for id in roleIds where acl[SubjectKey(subjectType: "role", subjectId: id, resource: key)]?.contains(aclOp) == true {
                    return true
                }
            }
            if owners[key] == userId { return true }
        }
        for id in roleIds {
            guard let role = roles[id] else { continue }
            for p in role.permissions where p.allow.contains(where: { PermissionRule.patternMatches($0, operation) }) {
                if Self.constraintHolds(p, resourceType: resourceType, resource: resource) { return true }
            }
        }
        return false
    }

    /// `buckets` / `topics` of a role permission against the resource. The transaction envelope
    /// and unsubscribes are unconstrained: a transaction's operations are checked one by one.
    private static func constraintHolds(_ p: RolePermission, resourceType: String?, resource: AccessResource) -> Bool {
        if case .unconstrained = resource { return true }
        switch resourceType {
        case "bucket":
            guard let buckets = p.buckets else { return true }
            return buckets.contains(resource.text)
        case "topic":
            guard let topics = p.topics else { return true }
            switch resource {
            case .subscriptionPattern(let s): return topics.contains { TopicScope.subscription(s, within: $0) }
            case .factPattern(let s): return topics.contains { TopicScope.factPattern(s, within: $0) }
            default: return topics.contains { PermissionRule.patternMatches($0, resource.text) }
            }
        default: return true
        }
    }
}
