/// A config file (or config JSON) problem, naming the offending key by its dotted path.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Dotted path of the key, e.g. `rateLimit.windowMs` or `auth.tokens.abc.roles[1]`.
    public var key: String
    public var problem: String

    public init(key: String, _ problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String { key.isEmpty ? problem : "config key \"\(key)\": \(problem)" }
}
