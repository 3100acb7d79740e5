/// The ceilings of numeric config keys (docs/config.md): far above any sensible setting, far
/// below anything that could overflow `now + value` or a buffer size computation.
public enum ConfigBounds {
    /// Any duration (`*Ms`): 365 days.
    public static let durationMs: Int64 = 365 * 24 * 3_600_000
    /// Any byte size: 1 GiB.
    public static let bytes: Int64 = 1 << 30
    /// Any count (requests per window, subscriptions, connections): one billion.
    public static let count: Int64 = 1_000_000_000
    /// An absolute time (`expiresAt`, ms since the epoch): the end of year 9999.
    public static let epochMs: Int64 = 253_402_300_799_999
}
