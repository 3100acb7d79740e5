import NoexLoop

/// permessage-deflate in the config file (docs/config.md): `"compression": true`, or an object
/// `{"enabled", "threshold", "serverNoContextTakeover", "clientNoContextTakeover",
/// "serverMaxWindowBits", "memLevel", "level"}` (an object without `enabled` turns it on).
public struct CompressionSetting: Sendable, Equatable {
    public var enabled: Bool
    public var settings: PerMessageDeflateConfig

    public init(enabled: Bool, settings: PerMessageDeflateConfig = .init()) {
        self.enabled = enabled
        self.settings = settings
    }

    /// Largest threshold accepted: messages above it are never compressed anyway past 1 GiB.
    static let maxThreshold = ConfigBounds.bytes

    static func decode(_ r: ConfigReader, _ key: String) throws(ConfigError) -> CompressionSetting? {
        guard let v = r.value(key) else { return nil }
        if case .bool(let on) = v { return CompressionSetting(enabled: on) }
        guard case .object = v, let o = try r.object(key) else {
            throw ConfigError(key: key, "expected true, false or an object {\"enabled\", \"threshold\", …}, got \(v.typeName)")
        }
        try o.rejectUnknownKeys(["enabled", "threshold", "serverNoContextTakeover", "clientNoContextTakeover",
                                 "serverMaxWindowBits", "memLevel", "level"])
        var c = PerMessageDeflateConfig()
        if let t = try o.integer("threshold", in: 0...maxThreshold) { c.threshold = Int(t) }
        if let b = try o.bool("serverNoContextTakeover") { c.serverNoContextTakeover = b }
        if let b = try o.bool("clientNoContextTakeover") { c.clientNoContextTakeover = b }
        // zlib cannot compress with a 256-byte window (8), so 9 is the smallest.
        if let w = try o.integer("serverMaxWindowBits", in: 9...15) { c.serverMaxWindowBits = Int(w) }
        if let m = try o.integer("memLevel", in: 1...9) { c.memLevel = Int(m) }
        if let l = try o.integer("level", in: 1...9) { c.level = Int(l) }
        return CompressionSetting(enabled: try o.bool("enabled") ?? true, settings: c)
    }
}
