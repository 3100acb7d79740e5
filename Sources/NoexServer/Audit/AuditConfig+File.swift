/// The config file's `audit` key (docs/config.md): `false` (off), `true` (the defaults) or
/// `{"tiers": ["admin", …], "maxEntries": n}`.
extension AuditConfig {
    static func decode(_ r: ConfigReader) throws(ConfigError) -> AuditConfig? {
        guard let v = r.value("audit") else { return nil }
        if case .bool(let on) = v { return on ? AuditConfig() : nil }
        guard let o = try r.object("audit") else { return nil }
        try o.rejectUnknownKeys(["tiers", "maxEntries"])
        var c = AuditConfig()
        if let names = try o.stringArray("tiers") {
            guard !names.isEmpty else {
                throw ConfigError(key: "audit.tiers", "must name at least one tier (read, write, admin); use \"audit\": false to turn the audit log off")
            }
            var tiers: Set<OperationTier> = []
            for (i, name) in names.enumerated() {
                guard let tier = OperationTier(rawValue: name) else {
                    throw ConfigError(key: "audit.tiers[\(i)]", "unknown tier \"\(name)\" (must be read, write, or admin)")
                }
                tiers.insert(tier)
            }
            c.tiers = tiers
        }
        if let n = try o.positiveInteger("maxEntries", max: Int64(maxEntriesLimit)) { c.maxEntries = Int(n) }
        return c
    }

    /// The tiers in hierarchy order, for the banner: `read, write, admin`.
    var tierList: String { tiers.sorted().map(\.rawValue).joined(separator: ", ") }
}
