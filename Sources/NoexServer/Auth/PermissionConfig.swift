/// Per-operation permissions for external auth (docs/protocol/auth.md), evaluated after the tier check
/// and only for logged-in sessions.
public struct PermissionConfig {
    public enum Default: String, Sendable { case allow, deny }

    public var `default`: Default
    public var rules: [PermissionRule]
    /// `true` allows, `false` denies, `nil` falls through to `rules` and then `default`.
    public var check: ((AuthSession, _ operation: String, _ resource: String) -> Bool?)?

    public init(default: Default = .allow, rules: [PermissionRule] = [],
                check: ((AuthSession, String, String) -> Bool?)? = nil) {
        self.default = `default`
        self.rules = rules
        self.check = check
    }

    /// The decision for one request.
    public func allows(_ session: AuthSession, operation: String, resource: String) -> Bool {
        allows(session, operation: operation, resource: .name(resource))
    }

    public func allows(_ session: AuthSession, operation: String, resource: AccessResource) -> Bool {
        if let check, let verdict = check(session, operation, resource.text) { return verdict }
        for rule in rules where rule.matches(session, operation: operation, resource: resource) {
            return true
        }
        return `default` == .allow
    }
}

/// One allow rule: a role, operation patterns, and an optional bucket or topic constraint.
/// Rules can only allow; denial comes from the default.
public struct PermissionRule: Sendable, Equatable {
    public var role: String
    public var allow: [String]
    public var buckets: [String]?
    public var topics: [String]?

    public init(role: String, allow: [String], buckets: [String]? = nil, topics: [String]? = nil) {
        self.role = role
        self.allow = allow
        self.buckets = buckets
        self.topics = topics
    }

    func matches(_ session: AuthSession, operation: String, resource: String) -> Bool {
        matches(session, operation: operation, resource: .name(resource))
    }

    func matches(_ session: AuthSession, operation: String, resource: AccessResource) -> Bool {
        guard session.roles.contains(role),
              allow.contains(where: { Self.patternMatches($0, operation) }) else { return false }
        if operation.hasPrefix("store."), let buckets {
            switch resource {
            case .unconstrained: return true
            default: return buckets.contains(resource.text)
            }
        }
        if operation.hasPrefix("rules."), let topics {
            switch resource {
            case .unconstrained: return true
            case .name(let r): return topics.contains { Self.patternMatches($0, r) }
            case .subscriptionPattern(let p): return topics.contains { TopicScope.subscription(p, within: $0) }
            case .factPattern(let p): return topics.contains { TopicScope.factPattern(p, within: $0) }
            }
        }
        return true
    }

    /// `*` matches anything; `a.*` matches every value starting with `a.`; otherwise exact.
    static func patternMatches(_ pattern: String, _ value: String) -> Bool {
        if pattern == "*" { return true }
        if pattern.hasSuffix(".*") { return value.hasPrefix(pattern.dropLast()) }
        return pattern == value
    }
}
