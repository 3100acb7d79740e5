import NoexJSON
import NoexStore

/// Roles and role assignments (docs/protocol/identity.md#roles).
extension IdentityManager {
    func createRole(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireSuperadmin(state)
        let name = try r.nonEmptyString("name")
        guard name.utf16.count <= 64 else { throw ServerError(.validationError, "Role name must be between 1 and 64 characters") }
        if role(named: name) != nil { throw ServerError(.alreadyExists, "Role \"\(name)\" already exists") }
        var record: JSONObject = ["name": .string(name)]
        if let d = r["description"], d.stringValue != nil { record["description"] = d }
        record["system"] = false
        record["permissions"] = r["permissions"].flatMap { $0.arrayValue != nil ? $0 : nil } ?? []
        return Self.roleInfo(try storeCall { () throws(StoreError) in try store.insert(bucket: SystemBuckets.roles, record: record) })
    }

    func existingRole(_ id: String) throws(ServerError) -> JSONObject {
        guard let role = role(id: id) else { throw ServerError(.notFound, "Role not found") }
        return role
    }

    func updateRole(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireSuperadmin(state)
        let roleId = try r.nonEmptyString("roleId")
        let role = try existingRole(roleId)
        var changes: JSONObject = [:]
        if let d = r["description"], d.stringValue != nil { changes["description"] = d }
        if let p = r["permissions"], p.arrayValue != nil { changes["permissions"] = p }
        if changes.isEmpty { return Self.roleInfo(role) }
        return Self.roleInfo(try storeCall { () throws(StoreError) in
            try store.update(bucket: SystemBuckets.roles, key: .string(roleId), changes: changes)
        })
    }

    func deleteRole(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireSuperadmin(state)
        let roleId = try r.nonEmptyString("roleId")
        let role = try existingRole(roleId)
        if role["system"]?.boolValue == true { throw ServerError(.forbidden, "Cannot delete system role") }
        deleteAll(SystemBuckets.userRoles, ["roleId": .string(roleId)])
        _ = try? store.delete(bucket: SystemBuckets.roles, key: .string(roleId))
        return ["deleted": true]
    }

    func assignRole(_ r: Request, _ state: ConnectionState, nowMs: Int64) throws(ServerError) -> JSON {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        let roleName = try r.nonEmptyString("roleName")
        if userId != Self.superadminId { _ = try existingUser(userId) }
        guard let roleId = role(named: roleName)?["id"]?.stringValue else { throw ServerError(.notFound, "Role \"\(roleName)\" not found") }
        let assignment: JSONObject = ["userId": .string(userId), "roleId": .string(roleId)]
        if !records(SystemBuckets.userRoles, assignment).isEmpty {
            throw ServerError(.alreadyExists, "User already has role \"\(roleName)\"")
        }
        var record = assignment
        record["grantedBy"] = .string(state.session?.userId ?? "")
        record["grantedAt"] = .int(nowMs)
        _ = try storeCall { () throws(StoreError) in try store.insert(bucket: SystemBuckets.userRoles, record: record) }
        return ["assigned": true]
    }

    func removeRole(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        let roleName = try r.nonEmptyString("roleName")
        guard let roleId = role(named: roleName)?["id"]?.stringValue else { throw ServerError(.notFound, "Role \"\(roleName)\" not found") }
        let found = records(SystemBuckets.userRoles, ["userId": .string(userId), "roleId": .string(roleId)])
        if found.isEmpty { throw ServerError(.notFound, "User does not have role \"\(roleName)\"") }
        deleteAll(SystemBuckets.userRoles, ["userId": .string(userId), "roleId": .string(roleId)])
        return ["removed": true]
    }

    func getUserRoles(_ r: Request, _ state: ConnectionState) throws(ServerError) -> JSON {
        try requireAdmin(state)
        let userId = try r.nonEmptyString("userId")
        if userId == Self.superadminId {
            return ["roles": .array(role(named: "superadmin").map { [Self.roleInfo($0)] } ?? [])]
        }
        _ = try existingUser(userId)
        let ids = records(SystemBuckets.userRoles, ["userId": .string(userId)]).compactMap { $0["roleId"]?.stringValue }
        return ["roles": .array(ids.compactMap { role(id: $0).map(Self.roleInfo) })]
    }
}
