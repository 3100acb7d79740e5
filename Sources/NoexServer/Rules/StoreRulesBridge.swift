import NoexJSON
import NoexRules
import NoexStore

/// Forwards every store mutation to the rule engine as `bucket.<name>.<inserted|updated|deleted>`
/// (the original's `bridgeStoreToRules` without a mapping). Returns the store listener id.
/// Changes of the server's own buckets (`SystemBuckets`) are not forwarded: a rules subscriber
/// must not see password hashes, sessions or the audit trail.
public enum StoreRulesBridge {
    @discardableResult
    public static func connect(store: Store, engine: RuleEngine, systemBuckets: SystemBuckets = SystemBuckets()) -> ListenerID {
        store.addEventListener(pattern: "bucket.*.*") { event in
            guard !systemBuckets.isGuarded(event.bucket) else { return }
            switch event {
            case .inserted(let bucket, let key, let record):
                _ = engine.emitStoreChange(bucket: bucket, .inserted(key: key, record: .object(record)))
            case .updated(let bucket, let key, let old, let new):
                _ = engine.emitStoreChange(bucket: bucket, .updated(key: key, oldRecord: .object(old), newRecord: .object(new)))
            case .deleted(let bucket, let key, let record):
                _ = engine.emitStoreChange(bucket: bucket, .deleted(key: key, record: .object(record)))
            }
        }
    }
}
