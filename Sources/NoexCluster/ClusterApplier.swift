import NoexJSON
import NoexPersistence
import NoexStore

/// What applying one log entry produced. Every node computes the same outcome for the same
/// entry, so the origin can answer its client with it.
public enum ClusterOutcome: Equatable, Sendable {
    /// The answer's `data`, shaped as the single-node server answers the operation.
    case applied(JSON)
    /// The store refused the command (validation, unique, CONFLICT, not found…); nothing changed.
    case rejected(StoreError)
    /// The entry is malformed: no node can apply it, and every node skips it.
    case invalid(String)
    /// A custom operation refused with the single server's error (its code, message, details).
    case failed(code: String, message: String, details: JSON?)
}

/// Applies one `.custom` operation at the entry's time; runs inside the entry's pinned decisions.
public typealias ClusterCustomHandler = (_ name: String, _ args: JSONObject, _ nowMs: Int64) -> ClusterOutcome

/// Wraps the application of every entry (store or custom) with its decided time and seed, so a
/// component outside the store (the rule engine) reads the same decisions while it reacts.
public typealias ClusterDecisionScope = (_ nowMs: Int64, _ seed: (UInt64, UInt64), _ apply: () -> ClusterOutcome) -> ClusterOutcome

/// Applies log entries to a store in log order, deterministically (docs/cluster.md): the
/// command's decided time and random seed are pinned for the duration of the application.
/// Entries at or below the last applied id are skipped, so re-reading after a reconnect is safe.
///
/// With a durable engine, `durable.clusterPosition` follows every applied entry, so the
/// position is committed in the same transaction as the data it produced.
public final class ClusterApplier {
    public let store: Store
    public private(set) var position: ClusterPosition
    /// Schema changes are committed through it before the outcome is reported (nil = memory).
    public var journal: (any SchemaJournal)?
    /// Receives the position after every entry (set `DurableStore.clusterPosition`).
    public var onPosition: ((ClusterPosition) -> Void)?
    /// Set when a durable schema commit failed: this node no longer matches the others and
    /// must restart from its stored position (docs/cluster.md#failure-modes).
    public private(set) var haltReason: String?
    /// Handlers of `.custom` operations by name (`handle(_:with:)`).
    private var handlers: [String: ClusterCustomHandler] = [:]
    /// Set by the server to pin the rule engine's decisions to the entry's (nil: store only).
    public var decisionScope: ClusterDecisionScope?

    public init(store: Store, position: ClusterPosition = .start) {
        self.store = store
        self.position = position
    }

    /// Installs the handler of the `.custom` operations named `names` (NoexCluster knows none).
    public func handle(_ names: some Sequence<String>, with handler: @escaping ClusterCustomHandler) {
        for n in names { handlers[n] = handler }
    }

    /// Applies the entry with `id`; nil when it was applied before (id at or below the position)
    /// or the applier is halted (also by this entry: written by a newer node, see `halt`).
    public func apply(id: StreamID, entry: JSON) -> ClusterOutcome? {
        guard id > position.lastID, haltReason == nil else { return nil }
        let previous = position
        let command: ClusterCommand
        do throws(ClusterCommandError) { command = try ClusterCommand(json: entry) } catch {
            // A newer node wrote it: the other nodes apply it, so skipping it here would leave
            // this node silently different. It stops before the entry instead, and resumes
            // from there once upgraded.
            if error.needsUpgrade {
                halt("log entry \(id) cannot be applied by this node (\(error.message)); it stopped applying the log before that entry")
                return nil
            }
            // Malformed: no node can apply it, so every node skips it alike.
            advance(ClusterPosition(lastID: id, timeMs: previous.timeMs))
            return .invalid(error.message)
        }
        if case .custom(let name, _) = command.operation, handlers[name] == nil {
            halt("log entry \(id) needs the operation \"\(name)\", which this node does not know: upgrade this node; it stopped applying the log before that entry")
            return nil
        }
        let time = Swift.max(previous.timeMs, command.atMs)
        // The position moves first: a schema change commits on its own during the application,
        // and must carry its own entry's position with it.
        advance(ClusterPosition(lastID: id, timeMs: time))
        let outcome = store.withDecisions(nowMs: time, random: CommandRandom(seed: command.seed)) {
            guard let scope = decisionScope else { return run(command.operation, now: time) }
            return scope(time, command.seed) { run(command.operation, now: time) }
        }
        if haltReason != nil { advance(previous) }  // not applied here: the position goes back
        return outcome
    }

    /// Stops applying (e.g. after a failed group commit undid applied entries): every later
    /// entry is refused until the node restarts from its stored position.
    public func halt(_ reason: String) {
        if haltReason == nil { haltReason = reason }
    }

    private func advance(_ p: ClusterPosition) {
        position = p
        onPosition?(p)
    }

    private func run(_ op: ClusterOperation, now: Int64) -> ClusterOutcome {
        if case .custom(let name, let args) = op {
            return handlers[name]!(name, args, now)  // `apply` halts before a name without a handler
        }
        do throws(StoreError) {
            return .applied(try execute(op, now: now))
        } catch {
            return .rejected(error)
        }
    }

    private func execute(_ op: ClusterOperation, now: Int64) throws(StoreError) -> JSON {
        switch op {
        case .insert(let b, let d):
            return .object(try store.insert(bucket: b, record: d))
        case .update(let b, let k, let d, let v):
            return .object(try store.update(bucket: b, key: k, changes: d, expectedVersion: v))
        case .delete(let b, let k, let v):
            _ = try store.delete(bucket: b, key: k, expectedVersion: v)
            return ["deleted": true]
        case .clear(let b):
            try store.clear(bucket: b)
            return ["cleared": true]
        case .transaction(let ops):
            var parsed: [TransactionOperation] = []
            for (i, o) in ops.enumerated() {
                guard let t = TransactionOperation(json: o) else {
                    throw .invalidQuery("operations[\(i)] of the logged transaction is malformed")
                }
                parsed.append(t)
            }
            let results = try store.runTransaction(parsed)
            return ["results": .array(results.enumerated().map { ["index": .int(Int64($0.offset)), "data": $0.element] })]
        case .defineBucket(let n, let c):
            try store.defineBucket(n, config: c)
            try persist({ (j: any SchemaJournal) throws(PersistenceError) in try j.bucketDefined(n, config: self.store.getBucketSchema(n)!) },
                        undo: { self.store.dropBucket(n) })
            return ["name": .string(n), "created": true]
        case .dropBucket(let n):
            guard store.hasBucket(n) else { throw .bucketNotDefined(n) }
            try persist({ (j: any SchemaJournal) throws(PersistenceError) in try j.bucketDropped(n) })
            store.dropBucket(n)
            return ["name": .string(n), "dropped": true]
        case .updateBucket(let n, let u):
            guard let before = store.getBucketSchema(n) else { throw .bucketNotDefined(n) }
            try store.updateBucket(n, updates: u)
            try persist({ (j: any SchemaJournal) throws(PersistenceError) in try j.bucketUpdated(n, config: self.store.getBucketSchema(n)!) },
                        undo: { try? self.store.restoreBucketDefinition(n, before) })
            return ["name": .string(n), "updated": true]
        case .defineQuery(let n, let c):
            try store.defineQuery(n, config: c)
            try persist({ (j: any SchemaJournal) throws(PersistenceError) in try j.queryDefined(n, config: c) },
                        undo: { self.store.undefineQuery(n) })
            return ["name": .string(n), "defined": true]
        case .undefineQuery(let n):
            guard store.hasQuery(n) else { throw .queryNotDefined(n) }
            try persist({ (j: any SchemaJournal) throws(PersistenceError) in try j.queryDefined(n, config: nil) })
            store.undefineQuery(n)
            return ["name": .string(n), "undefined": true]
        case .purgeExpired:
            return ["purged": .int(Int64(store.purgeExpired(now: now)))]
        case .custom:
            preconditionFailure("custom operations are dispatched by run(_:now:)")
        }
    }

    /// A durable schema commit; a failure undoes the change in memory and halts the applier
    /// (the other nodes applied it: this one must restart from its stored position).
    private func persist(_ change: (any SchemaJournal) throws(PersistenceError) -> Void, undo: () -> Void = {}) throws(StoreError) {
        guard let journal else { return }
        do throws(PersistenceError) { try change(journal) } catch {
            undo()
            haltReason = "a schema change could not be committed (\(error.message)); restart this node to resume from its stored position"
            throw .invalidDefinition(haltReason!)
        }
    }
}
