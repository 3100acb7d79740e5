import NoexJSON

/// A record-level dependency: one key of one bucket.
struct RecordRef: Hashable {
    var bucket: String
    var key: JSON
}

/// What a query evaluation read: whole buckets (any change matters) and single records.
struct Dependencies: Equatable {
    var buckets: Set<String> = []
    var records: Set<RecordRef> = []

    func touches(bucket: String) -> Bool {
        buckets.contains(bucket) || records.contains { $0.bucket == bucket }
    }
}

/// A programmatic query: host code reading through a `QueryContext`.
public typealias QueryFunction = (QueryContext, JSON?) throws(StoreError) -> JSON

enum QueryBody {
    case declarative(DeclarativeQuery)
    case shape(ShapeQuery)
    case programmatic(QueryFunction)
}

struct QueryDefinition {
    var name: String
    var body: QueryBody
    var config: JSONObject?
}

final class Subscription {
    let id: SubscriptionID
    let query: String
    let params: JSON?
    let listener: (QueryUpdate) -> Void
    // Unchecked exclusivity on the mutable fields: read and written once per subscription per
    // dispatch, on the store's thread only, never inside an inout access to themselves.
    @exclusivity(unchecked) var lastResult: JSON
    /// The evaluation `lastResult` came from; subscriptions holding the same one hold equal
    /// results, so a dispatch compares a shared new result with each old one only once.
    @exclusivity(unchecked) var lastEvaluation: UInt64
    @exclusivity(unchecked) var deps: Dependencies
    /// An evaluation whose dependencies equal `deps` (the one they came from, or a later one
    /// found equal): subscriptions with the same one hold equal `deps`, so a dispatch compares
    /// a shared evaluation's dependencies with theirs once, not once per subscription.
    @exclusivity(unchecked) var depsEvaluation: UInt64
    /// For declarative list/findOne queries: their bucket and filter (params bound). A change to
    /// a record that matches the filter neither before nor after cannot change such a result,
    /// so it does not trigger a re-evaluation.
    var relevance: (bucket: String, filter: Filter)?

    init(id: SubscriptionID, query: String, params: JSON?, listener: @escaping (QueryUpdate) -> Void,
         result: JSON, evaluation: UInt64, deps: Dependencies) {
        self.id = id
        self.query = query
        self.params = params
        self.listener = listener
        lastResult = result
        lastEvaluation = evaluation
        self.deps = deps
        depsEvaluation = evaluation
    }
}

/// A changed subscription result as its listener receives it.
public struct QueryUpdate {
    /// The query's new result.
    public let result: JSON
    /// Identifies the evaluation that produced `result`. Within one change, every subscription
    /// to the same query with equal params shares one evaluation, so updates with the same
    /// `evaluation` carry the same result and a listener may reuse work derived from it (the
    /// server serialises a fan-out push's data once).
    public let evaluation: UInt64
    /// The result the listener was given before this one, and its evaluation: a delta from
    /// `previous` to `result` is the same for every update with the same pair (or with equal
    /// `previous` results), so it is worked out once per evaluation.
    public let previous: JSON
    public let previousEvaluation: UInt64
}

/// The key under which one dispatch shares an evaluation: subscriptions to the same query
/// with equal params read the same data, so they get the same result.
struct EvaluationKey: Hashable {
    var query: String
    var params: JSON?
}

/// One evaluation shared, within a dispatch, by all subscriptions with the same key.
final class SharedEvaluation {
    /// nil when the change cannot affect the result (relevance filter) or the evaluation failed.
    let evaluation: UInt64?
    /// The new result and what it read (`.null` and empty without an evaluation); fields of
    /// their own, so a subscriber reads what it needs without copying the others.
    let result: JSON
    let deps: Dependencies
    /// Previous evaluation → whether `result` differs from that evaluation's result.
    var differs: [UInt64: Bool] = [:]
    /// The last answer of `differs`, asked again by each subscriber of a fan-out (no hashing).
    var lastDiffers: (from: UInt64, changed: Bool)?
    /// Whether `deps` equal the dependencies of evaluation `from` (a subscription's
    /// `depsEvaluation`): in a fan-out every subscriber asks about the same one.
    var sameDeps: (from: UInt64, same: Bool)?
    /// False once a mutation made during the dispatch made the shared results stale (the
    /// dispatch's shortcut to its latest shared evaluation checks it).
    var isCurrent = true

    init(_ outcome: (result: JSON, deps: Dependencies, evaluation: UInt64)?) {
        evaluation = outcome?.evaluation
        result = outcome?.result ?? .null
        deps = outcome?.deps ?? Dependencies()
    }

    /// Whether the result differs from that of evaluation `from`, whose result is `previous`.
    func differs(from: UInt64, previous: JSON) -> Bool {
        if let last = lastDiffers, last.from == from { return last.changed }
        let changed: Bool
        if let known = differs[from] {
            changed = known
        } else {
            changed = result != previous
            differs[from] = changed
        }
        lastDiffers = (from, changed)
        return changed
    }
}

/// The read-only view a query evaluates against. Every read records a dependency:
/// `get` on the record's key, everything else on the whole bucket (docs/store.md#notifications-deterministic-synchronous).
public final class QueryContext {
    unowned let store: Store
    var deps = Dependencies()

    init(store: Store) { self.store = store }

    private func touch(_ bucket: String) throws(StoreError) -> Bucket {
        let b = try store.bucket(bucket)
        deps.buckets.insert(bucket)
        return b
    }

    public func get(bucket: String, key: JSON) throws(StoreError) -> JSONObject? {
        let b = try store.bucket(bucket)
        deps.records.insert(RecordRef(bucket: bucket, key: key))
        return b.get(key)
    }

    public func all(bucket: String) throws(StoreError) -> [JSONObject] { try touch(bucket).table.records }

    public func `where`(bucket: String, filter: JSONObject) throws(StoreError) -> [JSONObject] {
        try touch(bucket).select(try Filter.checked(filter))
    }

    func select(bucket: String, filter: Filter, limit: Int = .max) throws(StoreError) -> [JSONObject] {
        try touch(bucket).select(filter, limit: limit)
    }

    func count(bucket: String, filter: Filter) throws(StoreError) -> Int {
        try touch(bucket).countMatching(filter)
    }

    public func findOne(bucket: String, filter: JSONObject) throws(StoreError) -> JSONObject? {
        try touch(bucket).select(try Filter.checked(filter), limit: 1).first
    }

    public func count(bucket: String, filter: JSONObject? = nil) throws(StoreError) -> Int {
        let b = try touch(bucket)
        guard let filter else { return b.count }
        return b.countMatching(try Filter.checked(filter))
    }

    public func first(bucket: String, n: Int) throws(StoreError) -> [JSONObject] {
        _ = try touch(bucket)
        return try store.first(bucket: bucket, n: n)
    }

    public func last(bucket: String, n: Int) throws(StoreError) -> [JSONObject] {
        _ = try touch(bucket)
        return try store.last(bucket: bucket, n: n)
    }

    public func paginate(bucket: String, after: JSON? = nil, limit: Int) throws(StoreError) -> Page {
        _ = try touch(bucket)
        return try store.paginate(bucket: bucket, after: after, limit: limit)
    }

    public func sum(bucket: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        _ = try touch(bucket)
        return try store.sum(bucket: bucket, field: field, filter: filter)
    }

    public func avg(bucket: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        _ = try touch(bucket)
        return try store.avg(bucket: bucket, field: field, filter: filter)
    }

    public func min(bucket: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        _ = try touch(bucket)
        return try store.min(bucket: bucket, field: field, filter: filter)
    }

    public func max(bucket: String, field: String, filter: JSONObject? = nil) throws(StoreError) -> JSON {
        _ = try touch(bucket)
        return try store.max(bucket: bucket, field: field, filter: filter)
    }
}

extension Store {
    // MARK: - Query definitions

    /// Defines a declarative query (wire `store.defineQuery`, docs/protocol/queries.md#declarative-queries).
    public func defineQuery(_ name: String, config: JSONObject) throws(StoreError) {
        if queries[name] != nil { throw .queryAlreadyDefined(name) }
        let body: QueryBody
        let used: [String]
        if config["shape"] != nil {
            let q = try ShapeQuery(config: config)
            (body, used) = (.shape(q), q.buckets)
        } else {
            let q = try DeclarativeQuery(config: config)
            (body, used) = (.declarative(q), q.buckets)
        }
        for b in used where buckets[b] == nil { throw .bucketNotDefined(b) }
        queries[name] = QueryDefinition(name: name, body: body, config: config)
        queryOrder.append(name)
    }

    /// Defines a programmatic query (host code). It must only read through the context.
    public func defineQuery(_ name: String, _ fn: @escaping QueryFunction) throws(StoreError) {
        if queries[name] != nil { throw .queryAlreadyDefined(name) }
        queries[name] = QueryDefinition(name: name, body: .programmatic(fn), config: nil)
        queryOrder.append(name)
    }

    /// Removes a query and silently ends its subscriptions; false when unknown.
    @discardableResult
    public func undefineQuery(_ name: String) -> Bool {
        guard queries.removeValue(forKey: name) != nil else { return false }
        queryOrder.removeAll { $0 == name }
        for id in subscriptions.values.filter({ $0.query == name }).map(\.id) { unsubscribe(id) }
        return true
    }

    /// `[{name, type, config?, activeSubscriptions}]` in definition order.
    public func listQueries() -> [JSON] {
        queryOrder.map { name in
            let q = queries[name]!
            var o: JSONObject = ["name": .string(name)]
            switch q.body {
            case .declarative, .shape: o["type"] = "declarative"
            case .programmatic: o["type"] = "programmatic"
            }
            if let c = q.config { o["config"] = .object(c) }
            o["activeSubscriptions"] = .int(Int64(subscriptions.values.filter { $0.query == name }.count))
            return .object(o)
        }
    }

    public func hasQuery(_ name: String) -> Bool { queries[name] != nil }

    func evaluate(_ name: String, params: JSON?) throws(StoreError) -> (JSON, Dependencies) {
        guard let q = queries[name] else { throw .queryNotDefined(name) }
        evaluationCount += 1
        lastEvaluationID &+= 1
        let ctx = QueryContext(store: self)
        let result: JSON
        switch q.body {
        case .declarative(let d): result = try d.run(ctx, params: params)
        case .shape(let q): result = try q.run(ctx, params: params)
        case .programmatic(let fn): result = try fn(ctx, params)
        }
        return (result, ctx.deps)
    }

    /// Runs a query once, without subscribing.
    public func runQuery(_ name: String, params: JSON? = nil) throws(StoreError) -> JSON {
        try evaluate(name, params: params).0
    }

    // MARK: - Subscriptions

    /// Subscribes `listener` to a query. Returns the id and the initial result (the listener is
    /// not called for it). The listener is called, synchronously after a mutation, only when the
    /// result differs (deep equality) from the last one it was given.
    public func subscribe(query: String, params: JSON? = nil, listener: @escaping (JSON) -> Void) throws(StoreError)
        -> (id: SubscriptionID, result: JSON)
    {
        try subscribeUpdates(query: query, params: params) { listener($0.result) }
    }

    /// `subscribe(query:params:listener:)` with the evaluation id of each update (see
    /// `QueryUpdate`), for listeners that derive something costly from the result.
    public func subscribeUpdates(query: String, params: JSON? = nil, onUpdate: @escaping (QueryUpdate) -> Void)
        throws(StoreError) -> (id: SubscriptionID, result: JSON)
    {
        let (result, deps) = try evaluate(query, params: params)
        let id = nextSubscriptionID
        nextSubscriptionID += 1
        let sub = Subscription(id: id, query: query, params: params, listener: onUpdate, result: result,
                               evaluation: lastEvaluationID, deps: deps)
        if case .declarative(let d)? = queries[query]?.body { sub.relevance = d.relevanceFilter(params: params) }
        subscriptions[id] = sub
        index(sub.id, deps)
        return (id, result)
    }

    /// Ends a subscription; false when it is already gone.
    @discardableResult
    public func unsubscribe(_ id: SubscriptionID) -> Bool {
        guard let sub = subscriptions.removeValue(forKey: id) else { return false }
        unindex(id, sub.deps)
        return true
    }

    public var subscriptionCount: Int { subscriptions.count }

    /// The result a subscription's listener was last given (the initial result before the
    /// first change); nil for an ended subscription. A server re-sends it when the push that
    /// carried it could not be delivered.
    public func lastResult(of id: SubscriptionID) -> JSON? { subscriptions[id]?.lastResult }

    private func index(_ id: SubscriptionID, _ deps: Dependencies) {
        for b in deps.buckets { bucketDependents[b, default: []].insert(id) }
        for r in deps.records { recordDependents[r, default: []].insert(id) }
    }

    private func unindex(_ id: SubscriptionID, _ deps: Dependencies) {
        for b in deps.buckets {
            bucketDependents[b]?.remove(id)
            if bucketDependents[b]?.isEmpty == true { bucketDependents[b] = nil }
        }
        for r in deps.records {
            recordDependents[r]?.remove(id)
            if recordDependents[r]?.isEmpty == true { recordDependents[r] = nil }
        }
    }

    // MARK: - Events

    /// Registers a handler for store events whose topic matches `pattern` (noex rules, see
    /// `topicMatches`). Handlers run synchronously after each mutation, in registration order.
    @discardableResult
    public func addEventListener(pattern: String = "bucket.*.*", _ handler: @escaping (StoreEvent) -> Void) -> ListenerID {
        let id = nextListenerID
        nextListenerID += 1
        listeners.append((id, pattern, handler))
        return id
    }

    @discardableResult
    public func removeEventListener(_ id: ListenerID) -> Bool {
        guard let i = listeners.firstIndex(where: { $0.id == id }) else { return false }
        listeners.remove(at: i)
        return true
    }

    /// Whether a mutation's events reach anyone: snapshot persistence, the durable log, a
    /// listener or a subscription, or a dispatch in progress (which may add either before it
    /// reaches a queued batch). A write builds its events only when this is true.
    var eventsHaveReaders: Bool {
        persistence != nil || mutationObserver != nil || !listeners.isEmpty || !subscriptions.isEmpty || dispatching
    }

    /// Queues one mutation's events and dispatches unless a dispatch is already running
    /// (then the running one picks them up after its current batch).
    func publish(_ changes: StoreChanges) {
        guard !changes.isEmpty else { return }
        let events = changes.events
        markDirty(events)
        mutationObserver?(changes)
        // Nobody to dispatch to, and no dispatch that could add someone before this batch.
        if listeners.isEmpty && subscriptions.isEmpty && !dispatching { return }
        pendingBatches.append(events)
        // A mutation made by a listener: results shared so far in this dispatch are stale.
        if !sharedEvaluations.isEmpty {
            for shared in sharedEvaluations.values { shared.isCurrent = false }
            sharedEvaluations.removeAll()
        }
        guard !dispatching else { return }
        dispatching = true
        defer { dispatching = false }
        var i = 0
        while i < pendingBatches.count {
            dispatch(pendingBatches[i])
            i += 1
        }
        // Kept allocated: every write passes through here.
        pendingBatches.removeAll(keepingCapacity: true)
    }

    /// Whether `event` could change the result of a query reading `bucket` through `filter`.
    static func touches(_ event: StoreEvent, _ bucket: String, _ filter: Filter) -> Bool {
        guard event.bucket == bucket else { return true }
        switch event {
        case .inserted(_, _, let r), .deleted(_, _, let r): return filter.matches(r)
        case .updated(_, _, let old, let new): return filter.matches(old) || filter.matches(new)
        }
    }

    private func dispatch(_ batch: [StoreEvent]) {
        if !listeners.isEmpty {
            for event in batch {
                let topic = event.topic
                for l in listeners where topicMatches(pattern: l.pattern, topic: topic) { l.handler(event) }
            }
        }
        guard !subscriptions.isEmpty else { return }
        let affected = affectedSubscriptions(batch)
        sharedEvaluations.removeAll()
        defer { sharedEvaluations.removeAll() }
        // The evaluation the previous subscription used, and its key: in a fan-out the
        // subscribers of one query follow each other, so most find theirs here without hashing.
        var lastShared: SharedEvaluation?
        var lastQuery = ""
        var lastParams: JSON?
        for id in affected {
            guard let sub = subscriptions[id] else { continue }  // ended meanwhile
            let shared: SharedEvaluation
            if let l = lastShared, l.isCurrent, lastQuery == sub.query, lastParams == sub.params {
                shared = l
            } else {
                let key = EvaluationKey(query: sub.query, params: sub.params)
                if let cached = sharedEvaluations[key] {
                    shared = cached
                } else {
                    shared = SharedEvaluation(evaluate(sub, for: batch))
                    sharedEvaluations[key] = shared
                }
                (lastShared, lastQuery, lastParams) = (shared, sub.query, sub.params)
            }
            guard let evaluation = shared.evaluation else { continue }
            if sub.depsEvaluation != evaluation {
                let same: Bool
                if let known = shared.sameDeps, known.from == sub.depsEvaluation {
                    same = known.same
                } else {
                    same = shared.deps == sub.deps
                    shared.sameDeps = (sub.depsEvaluation, same)
                }
                if !same {
                    unindex(id, sub.deps)
                    sub.deps = shared.deps
                    index(id, shared.deps)
                }
                sub.depsEvaluation = evaluation
            }
            if sub.lastEvaluation == evaluation { continue }
            if shared.differs(from: sub.lastEvaluation, previous: sub.lastResult) {
                let result = shared.result
                let update = QueryUpdate(result: result, evaluation: evaluation,
                                         previous: sub.lastResult, previousEvaluation: sub.lastEvaluation)
                sub.lastResult = result
                sub.lastEvaluation = evaluation
                sub.listener(update)
            }
        }
    }

    /// The subscriptions a batch may affect, in id order: the dependents of each bucket it
    /// touches and of each record it changes. A batch on one bucket (an insert, with the
    /// eviction it caused) takes that bucket's set as it is, without building a union.
    private func affectedSubscriptions(_ batch: [StoreEvent]) -> [SubscriptionID] {
        var single: Set<SubscriptionID>?
        var union: Set<SubscriptionID>?
        func add(_ set: Set<SubscriptionID>) {
            if union != nil {
                union!.formUnion(set)
            } else if let first = single {
                union = first.union(set)
                single = nil
            } else {
                single = set
            }
        }
        var lastBucket: String?
        for event in batch {
            if event.bucket != lastBucket {
                lastBucket = event.bucket
                if let s = bucketDependents[event.bucket] { add(s) }
            }
            if !recordDependents.isEmpty, let s = recordDependents[RecordRef(bucket: event.bucket, key: event.key)] { add(s) }
        }
        guard let ids = union ?? single, !ids.isEmpty else { return [] }
        return Self.ascending(ids)
    }

    /// The ids in ascending order. Subscription ids are handed out in sequence, so a fan-out's
    /// ids mostly lie close together: then they are marked in a table over their range and
    /// read back in order, which costs less than sorting them.
    static func ascending(_ ids: Set<SubscriptionID>) -> [SubscriptionID] {
        var low = Int.max, high = Int.min
        for id in ids {
            low = Swift.min(low, id)
            high = Swift.max(high, id)
        }
        let span = high - low + 1
        guard span <= 4 * ids.count + 64 else { return ids.sorted() }
        var marks = [Bool](repeating: false, count: span)
        marks.withUnsafeMutableBufferPointer { m in
            for id in ids { m[id - low] = true }
        }
        var out: [SubscriptionID] = []
        out.reserveCapacity(ids.count)
        marks.withUnsafeBufferPointer { m in
            for i in 0..<span where m[i] { out.append(low + i) }
        }
        return out
    }

    /// Re-evaluates `sub`'s query for `batch`, or nil when the batch cannot change its result
    /// (relevance filter) or the evaluation fails (the subscription then keeps its last result).
    private func evaluate(_ sub: Subscription, for batch: [StoreEvent])
        -> (result: JSON, deps: Dependencies, evaluation: UInt64)?
    {
        if let rel = sub.relevance, !batch.contains(where: { Self.touches($0, rel.bucket, rel.filter) }) {
            return nil
        }
        guard let (result, deps) = try? evaluate(sub.query, params: sub.params) else { return nil }
        return (result, deps, lastEvaluationID)
    }
}

extension Store {
    /// The buckets a declarative query reads (its own and its lookups'), so that access to the
    /// query can be checked against the data behind it; nil for an unknown or programmatic
    /// query, whose reads only its host code knows.
    public func bucketsRead(byQuery name: String) -> [String]? {
        switch queries[name]?.body {
        case .declarative(let d)?: return d.buckets
        case .shape(let s)?: return s.buckets
        default: return nil
        }
    }
}
