/// `audit: {tiers, maxEntries, onEntry}` (docs/audit.md): which requests are recorded and how
/// many entries are kept. `nil` in `ServerConfig.audit` turns the audit log off.
public struct AuditConfig {
    /// Requests whose operation has one of these tiers are recorded; untiered types never are.
    public var tiers: Set<OperationTier> = [.admin]
    /// Entries kept (in memory and, with durable storage, in the `_audit` bucket); the oldest
    /// goes when a new one arrives at the limit. Clamped to `1...maxEntriesLimit`.
    public var maxEntries: Int = 10_000
    /// Called on the loop thread, synchronously, with every appended entry.
    public var onEntry: ((AuditEntry) -> Void)?

    /// The ceiling of `maxEntries`: an entry holds at most about 2 KiB (docs/audit.md), so the
    /// trail stays within a few GiB even at this setting.
    public static let maxEntriesLimit = 1_000_000

    public init(tiers: Set<OperationTier> = [.admin], maxEntries: Int = 10_000, onEntry: ((AuditEntry) -> Void)? = nil) {
        self.tiers = tiers
        self.maxEntries = maxEntries
        self.onEntry = onEntry
    }

    /// `maxEntries` within its bounds.
    var capacity: Int { Swift.max(1, Swift.min(maxEntries, Self.maxEntriesLimit)) }
}
