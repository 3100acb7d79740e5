import NoexJSON
import NoexStore

/// ACL entries and resource ownership (docs/protocol/identity.md#acl-and-ownership).
extension IdentityManager {
    static let aclOperations: Set<String> = ["read", "write", "admin"]

    private func resourceFields(_ r: Request) throws(ServerError) -> JSONObject {
        ["resourceType": .string(try r.nonEmptyString("resourceType")), "resourceName": .string(try r.nonEmptyString("resourceName"))]
    }

    /// Superadmin, `admin` role, owner, or an `admin` ACL entry for the caller as a user.
    private func mayManage(_ state: ConnectionState, _ resource: JSONObject) -> Bool {
        guard let s = state.session else { return false }
        if s.roles.contains("superadmin") || s.roles.contains("admin") { return true }
        if records(SystemBuckets.resourceOwners, resource).contains(where: { $0["userId"]?.stringValue == s.userId }) { return true }
        var mine = resource
        mine["subjectType"] = "user"
        mine["subjectId"] = .string(s.userId)
        return records(SystemBuckets.acl, mine).contains { ($0["operations"]?.arrayValue ?? []).contains("admin") }
    }

    private static let cannotManage = ServerError(.forbidden, "Must be the resource owner, admin, or have admin ACL to manage permissions")

    func grant(_ r: Request, _ state: ConnectionState, nowMs: Int64) throws(ServerError) -> JSON {
        let subjectType = try r.nonEmptyString("subjectType")
        let subjectId = try r.nonEmptyString("subjectId")
        let resource = try resourceFields(r)
        guard case .array(let ops)? = r["operations"] else {
            throw ServerError(.validationError, "Missing or invalid \"operations\": expected non-empty array")
        }
        if ops.isEmpty { throw ServerError(.validationError, "Operations must be a non-empty array") }
        for op in ops where !(op.stringValue.map(Self.aclOperations.contains) ?? false) {
            throw ServerError(.validationError, "Invalid ACL operation \"\(JSValue.string(op))\". Valid operations: read, write, admin")
        }
        switch subjectType {
        case "user":
            if subjectId != Self.superadminId, user(id: subjectId) == nil { throw ServerError(.notFound, "Subject user not found") }
        case "role":
            if role(id: subjectId) == nil { throw ServerError(.notFound, "Subject role not found") }
        default:
            throw ServerError(.validationError, "Invalid subject type \"\(subjectType)\". Must be \"user\" or \"role\"")
        }
        guard mayManage(state, resource) else { throw Self.cannotManage }
        var subject = resource
        subject["subjectType"] = .string(subjectType)
        subject["subjectId"] = .string(subjectId)
        if let existing = records(SystemBuckets.acl, subject).first, let id = existing["id"] {
            var merged = existing["operations"]?.arrayValue ?? []
            for op in ops where !merged.contains(op) { merged.append(op) }
            _ = try storeCall { () throws(StoreError) in try store.update(bucket: SystemBuckets.acl, key: id, changes: ["operations": .array(merged)]) }
        } else {
            var record: JSONObject = ["subjectType": .string(subjectType), "subjectId": .string(subjectId)]
            record["resourceType"] = resource["resourceType"]
            record["resourceName"] = resource["resourceName"]
            record["operations"] = .array(ops)
            record["grantedBy"] = .string(state.session?.userId ?? "")
            record["grantedAt"] = .int(nowMs)
            _ = try storeCall { () throws(StoreError) in try store.insert(bucket: SystemBuckets.acl, record: record) }
        }
        return ["granted": true]
    }

    func revoke(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let subjectType = try r.nonEmptyString("subjectType")
        let subjectId = try r.nonEmptyString("subjectId")
        let resource = try resourceFields(r)
        guard mayManage(state, resource) else { throw Self.cannotManage }
        var subject = resource
        subject["subjectType"] = .string(subjectType)
        subject["subjectId"] = .string(subjectId)
        guard let entry = records(SystemBuckets.acl, subject).first, let id = entry["id"] else {
            throw ServerError(.notFound, "ACL entry not found")
        }
        let removing = r["operations"]?.arrayValue ?? []
        let left = removing.isEmpty ? [] : (entry["operations"]?.arrayValue ?? []).filter { !removing.contains($0) }
        if left.isEmpty {
            _ = try? store.delete(bucket: SystemBuckets.acl, key: id)
        } else {
            _ = try storeCall { () throws(StoreError) in try store.update(bucket: SystemBuckets.acl, key: id, changes: ["operations": .array(left)]) }
        }
        return ["revoked": true]
    }

    /// The display name of an ACL subject: a username, a role name, or the id when unknown.
    private func subjectName(_ type: String, _ id: String) -> String {
        if type == "user" { return id == Self.superadminId ? id : user(id: id)?["username"]?.stringValue ?? id }
        return role(id: id)?["name"]?.stringValue ?? id
    }

    func getAcl(_ r: Request) throws(ServerError) -> JSON {
        let resource = try resourceFields(r)
        let owner = records(SystemBuckets.resourceOwners, resource).first?["userId"]?.stringValue
        var entries: [JSON] = []
        var ownerListed = false
        for e in records(SystemBuckets.acl, resource) {
            let t = e["subjectType"]?.stringValue ?? "", id = e["subjectId"]?.stringValue ?? ""
            let isOwner = t == "user" && id == owner
            if isOwner { ownerListed = true }
            entries.append(["subjectType": .string(t), "subjectId": .string(id), "subjectName": .string(subjectName(t, id)),
                            "operations": e["operations"] ?? [], "isOwner": .bool(isOwner)])
        }
        if let owner, !ownerListed {
            entries.insert(["subjectType": "user", "subjectId": .string(owner), "subjectName": .string(subjectName("user", owner)),
                            "operations": [], "isOwner": true], at: 0)
        }
        return ["entries": .array(entries)]
    }

    func myAccess(_ state: ConnectionState) throws(ServerError) -> JSON {
        let userId = state.session!.userId
        let username: String
        if userId == Self.superadminId {
            username = userId
        } else {
            username = try existingUser(userId)["username"]?.stringValue ?? ""
        }
        let roleNames = cache.roleNames(of: userId)
        var order: [IdentityCache.ResourceKey] = []
        var ops: [IdentityCache.ResourceKey: Set<String>] = [:]
        var owned: Set<IdentityCache.ResourceKey> = []
        func add(_ key: IdentityCache.ResourceKey, _ o: [String]) {
            if ops[key] == nil { order.append(key) }
            ops[key, default: []].formUnion(o)
        }
        var subjects: [(String, String)] = [("user", userId)]
        for id in cache.userRoles[userId] ?? [] { subjects.append(("role", id)) }
        for (t, id) in subjects {
            for e in records(SystemBuckets.acl, ["subjectType": .string(t), "subjectId": .string(id)]) {
                guard let k = IdentityCache.subjectKey(e)?.resource else { continue }
                add(k, (e["operations"]?.arrayValue ?? []).compactMap(\.stringValue))
            }
        }
        for o in records(SystemBuckets.resourceOwners, ["userId": .string(userId)]) {
            guard let t = o["resourceType"]?.stringValue, let n = o["resourceName"]?.stringValue else { continue }
            let k = IdentityCache.ResourceKey(type: t, name: n)
            add(k, ["admin", "read", "write"])
            owned.insert(k)
        }
        let resources: [JSON] = order.map { k in
            ["resourceType": .string(k.type), "resourceName": .string(k.name),
             "operations": .array(ops[k]!.sorted().map { .string($0) }), "isOwner": .bool(owned.contains(k))]
        }
        return ["user": ["id": .string(userId), "username": .string(username), "roles": .array(roleNames.map { .string($0) })],
                "resources": .array(resources)]
    }

    func getOwner(_ r: Request) throws(ServerError) -> JSON {
        let resource = try resourceFields(r)
        guard let o = records(SystemBuckets.resourceOwners, resource).first, let userId = o["userId"]?.stringValue else {
            return ["owner": .null]
        }
        return ["owner": ["userId": .string(userId), "username": .string(subjectName("user", userId)),
                          "resourceType": resource["resourceType"]!, "resourceName": resource["resourceName"]!]]
    }

    func transferOwner(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        let resource = try resourceFields(r)
        let newOwnerId = try r.nonEmptyString("newOwnerId")
        guard let o = records(SystemBuckets.resourceOwners, resource).first, let id = o["id"] else {
            throw ServerError(.notFound, "Resource has no owner")
        }
        let caller = state.session!
        guard o["userId"]?.stringValue == caller.userId || caller.roles.contains("superadmin") else {
            throw ServerError(.forbidden, "Only the owner or superadmin can transfer ownership")
        }
        if newOwnerId != Self.superadminId, user(id: newOwnerId) == nil { throw ServerError(.notFound, "New owner not found") }
        _ = try storeCall { () throws(StoreError) in
            try store.update(bucket: SystemBuckets.resourceOwners, key: id, changes: ["userId": .string(newOwnerId)])
        }
        return ["transferred": true]
    }
}
