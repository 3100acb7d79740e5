/// Every request `type` the router answers with something other than `UNKNOWN_OPERATION`, by
/// namespace. The protocol reference (docs/protocol.md) documents exactly these, and
/// `ProtocolReferenceTests` checks both directions: each one is in the reference and the router
/// really knows it (it sends each one to a running server).
///
/// `auth.*` answers only when the server has auth configured, `audit.*` only with an audit log;
/// `rules.*` answers `RULES_NOT_AVAILABLE` when no rule engine is set. The namespaces in `notConfigured` are routed
/// to a fixed "not configured" answer (`UNKNOWN_OPERATION`), so no operation of theirs is known.
public enum KnownOperations {
    public static let store: [String] = [
        "store.insert", "store.get", "store.update", "store.delete", "store.all", "store.where",
        "store.findOne", "store.count", "store.first", "store.last", "store.paginate", "store.clear",
        "store.sum", "store.avg", "store.min", "store.max", "store.buckets", "store.stats",
        "store.transaction", "store.subscribe", "store.unsubscribe",
        "store.defineBucket", "store.dropBucket", "store.updateBucket", "store.getBucketSchema",
        "store.defineQuery", "store.undefineQuery", "store.listQueries",
    ]

    public static let rules: [String] = [
        "rules.emit", "rules.setFact", "rules.getFact", "rules.deleteFact", "rules.queryFacts",
        "rules.getAllFacts", "rules.stats", "rules.subscribe", "rules.unsubscribe",
        "rules.registerRule", "rules.unregisterRule", "rules.updateRule", "rules.enableRule",
        "rules.disableRule", "rules.getRule", "rules.getRules", "rules.validateRule",
    ]

    public static let auth: [String] = ["auth.login", "auth.logout", "auth.whoami"]

    public static let server: [String] = ["server.stats", "server.connections"]

    public static let procedures: [String] = [
        "procedures.register", "procedures.unregister", "procedures.update", "procedures.get",
        "procedures.list", "procedures.call",
    ]

    /// Answered when the server has an audit log (docs/protocol/audit.md).
    public static let audit: [String] = ["audit.query"]

    /// Built-in identity (docs/protocol/identity.md); without it every `identity.*` answers
    /// `UNKNOWN_OPERATION` "Identity management is not configured".
    public static let identity: [String] = [
        "identity.login", "identity.loginWithSecret", "identity.logout", "identity.whoami", "identity.refreshSession",
        "identity.createUser", "identity.getUser", "identity.updateUser", "identity.deleteUser", "identity.listUsers",
        "identity.enableUser", "identity.disableUser", "identity.changePassword", "identity.resetPassword",
        "identity.createRole", "identity.updateRole", "identity.deleteRole", "identity.listRoles",
        "identity.assignRole", "identity.removeRole", "identity.getUserRoles",
        "identity.grant", "identity.revoke", "identity.getAcl", "identity.myAccess", "identity.getOwner", "identity.transferOwner",
    ]

    public static var all: [String] { store + rules + auth + server + procedures + audit + identity }

    /// Prefixes answered `UNKNOWN_OPERATION` "… is not configured" when the feature is off.
    public static let notConfigured: [String] = ["identity.", "audit."]
}
