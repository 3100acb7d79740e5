/// One monitoring endpoint in the config file: `"metrics": {"enabled": false}`,
/// `"health": {"path": "/healthz"}`, or the shorthand `"metrics": false`.
public struct EndpointSetting: Sendable, Equatable {
    public var enabled: Bool?
    public var path: String?

    public init(enabled: Bool? = nil, path: String? = nil) {
        self.enabled = enabled
        self.path = path
    }

    /// The endpoint's path after this setting (nil = off), starting from `current`.
    public func applied(to current: String?, defaultPath: String) -> String? {
        if enabled == false { return nil }
        return path ?? current ?? defaultPath
    }

    static func decode(_ r: ConfigReader, _ key: String) throws(ConfigError) -> EndpointSetting? {
        guard let v = r.value(key) else { return nil }
        if case .bool(let on) = v { return EndpointSetting(enabled: on) }
        guard case .object = v, let o = try r.object(key) else {
            throw ConfigError(key: key, "expected true, false or an object {\"enabled\", \"path\"}, got \(v.typeName)")
        }
        try o.rejectUnknownKeys(["enabled", "path"])
        var s = EndpointSetting(enabled: try o.bool("enabled"))
        if let p = try o.string("path") {
            if let problem = MonitoringConfig.pathProblem(p) {
                throw ConfigError(key: "\(key).path", "\(problem), e.g. \"/\(key)\"")
            }
            s.path = p
        }
        return s
    }
}
