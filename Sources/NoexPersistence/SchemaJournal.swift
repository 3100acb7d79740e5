import NoexJSON

/// What the protocol layer tells a durable engine about a schema change before it answers it
/// (buckets, queries, rules defined over the wire). Both engines implement it: `sqlite` commits
/// the change on its own, `file` writes a new snapshot. A thrown error becomes
/// `PERSISTENCE_ERROR` and the change is undone in memory (docs/persistence.md).
public protocol SchemaJournal: AnyObject {
    func bucketDefined(_ name: String, config: JSONObject) throws(PersistenceError)
    func bucketUpdated(_ name: String, config: JSONObject) throws(PersistenceError)
    /// Called before the store drops the bucket: its stored data goes with it.
    func bucketDropped(_ name: String) throws(PersistenceError)
    /// The rule as `rules.getRule` answers it; `nil` = removed.
    func ruleChanged(_ id: String, _ rule: JSON?) throws(PersistenceError)
    /// `nil` = undefined.
    func queryDefined(_ name: String, config: JSONObject?) throws(PersistenceError)
}

extension DurableStore: SchemaJournal {}
