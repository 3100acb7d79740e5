/// The operation tiers of docs/protocol/auth.md and the built-in role hierarchy reader < writer < admin.
public enum OperationTier: String, Sendable, Comparable {
    case read, write, admin

    var level: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    public static func < (a: OperationTier, b: OperationTier) -> Bool { a.level < b.level }

    /// The tier of a request type; `nil` for untiered types (all `auth.*`, `ping`, unknown types),
    /// which get no tier check and are never audited.
    public static func of(_ type: String) -> OperationTier? { table[type] }

    /// The level of a built-in role name (`reader`, `writer`, `admin`), else `nil`.
    public static func builtinRoleLevel(_ role: String) -> OperationTier? {
        switch role {
        case "reader": .read
        case "writer": .write
        case "admin": .admin
        default: nil
        }
    }

    /// Access iff the highest built-in role reaches the tier; sessions without any built-in role
    /// bypass the check entirely (custom roles are left to the permission rules).
    public static func hasAccess(roles: [String], to tier: OperationTier) -> Bool {
        let levels = roles.compactMap(builtinRoleLevel)
        guard let best = levels.max() else { return true }
        return best >= tier
    }

    private static let table: [String: OperationTier] = {
        var t: [String: OperationTier] = [:]
        for op in [
            "store.defineBucket", "store.dropBucket", "store.updateBucket", "store.getBucketSchema",
            "store.defineQuery", "store.undefineQuery", "store.listQueries",
            "rules.registerRule", "rules.unregisterRule", "rules.updateRule", "rules.enableRule",
            "rules.disableRule", "rules.getRule", "rules.getRules", "rules.validateRule",
            "procedures.register", "procedures.unregister", "procedures.update", "procedures.list",
            "server.stats", "server.connections", "audit.query",
            "identity.login", "identity.loginWithSecret", "identity.logout", "identity.createUser",
            "identity.deleteUser", "identity.enableUser", "identity.disableUser",
            "identity.changePassword", "identity.resetPassword", "identity.assignRole",
            "identity.removeRole", "identity.createRole", "identity.deleteRole", "identity.grant",
            "identity.revoke", "identity.transferOwner",
        ] { t[op] = .admin }
        for op in [
            "store.insert", "store.update", "store.delete", "store.clear", "store.transaction",
            "rules.emit", "rules.setFact", "rules.deleteFact", "procedures.call",
        ] { t[op] = .write }
        for op in [
            "store.get", "store.all", "store.where", "store.findOne", "store.count", "store.first",
            "store.last", "store.paginate", "store.sum", "store.avg", "store.min", "store.max",
            "store.subscribe", "store.unsubscribe", "store.buckets", "store.stats",
            "rules.getFact", "rules.queryFacts", "rules.getAllFacts", "rules.subscribe",
            "rules.unsubscribe", "rules.stats", "procedures.get",
        ] { t[op] = .read }
        return t
    }()
}
