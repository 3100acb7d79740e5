import NoexJSON

/// A key with what `ordered_set` order compares, worked out once: numbers numerically,
/// otherwise `String(key)` in an approximation of ICU collation, case-insensitive first, then
/// lowercase before uppercase (docs/store.md). Comparing bare keys lowercased both strings on
/// every comparison.
struct OrderedSetKey {
    let key: JSON
    let number: Double?
    /// `String(key)` as JavaScript writes it, and lowercased.
    let text: String
    let lowered: String

    init(_ key: JSON) {
        self.key = key
        number = key.numberValue
        text = JSValue.string(key)
        lowered = text.lowercased()
    }

    static func < (a: OrderedSetKey, b: OrderedSetKey) -> Bool {
        if let x = a.number, let y = b.number { return x < y }
        if a.lowered != b.lowered { return JSValue.utf16Less(a.lowered, b.lowered) }
        return JSValue.utf16Less(b.text, a.text)  // lowercase (higher code units) first on ties
    }
}

/// The keys of an `ordered_set` bucket in key order, for `first`, `last` and `paginate`: kept
/// sorted as keys come and go, in runs of at most 1,024 (a run splits in two when it outgrows
/// that, and goes when it empties). A key is placed or found by binary search over the runs'
/// last keys, then within its run, so a change moves at most a run's keys. Sorting every key on
/// every request took 55 ms per `first(10)` at 20,000 keys (bench/README.md, "An ordered_set
/// bucket keeps its key order").
struct OrderedKeys {
    private var runs: [[OrderedSetKey]] = []
    private(set) var count = 0
    private static let maxRun = 1024

    init<S: Sequence<JSON>>(_ keys: S) {
        let sorted = keys.map(OrderedSetKey.init).sorted(by: <)
        count = sorted.count
        runs = stride(from: 0, to: sorted.count, by: Self.maxRun / 2).map {
            Array(sorted[$0..<Swift.min($0 + Self.maxRun / 2, sorted.count)])
        }
    }

    /// The position of the first key not less than `k` (`runs.count` when all are less).
    private func lowerBound(_ k: OrderedSetKey) -> (run: Int, at: Int) {
        var low = 0, high = runs.count
        while low < high {
            let mid = (low + high) / 2
            if runs[mid][runs[mid].count - 1] < k { low = mid + 1 } else { high = mid }
        }
        guard low < runs.count else { return (runs.count, 0) }
        var a = 0, b = runs[low].count
        while a < b {
            let mid = (a + b) / 2
            if runs[low][mid] < k { a = mid + 1 } else { b = mid }
        }
        return (low, a)
    }

    /// Where the key for which `matches` holds is among the keys that order like `k`, or nil.
    private func find(_ k: OrderedSetKey, _ matches: (JSON) -> Bool) -> (run: Int, at: Int)? {
        var (r, i) = lowerBound(k)
        while r < runs.count {
            if i == runs[r].count {
                (r, i) = (r + 1, 0)
                continue
            }
            if k < runs[r][i] { return nil }  // past the keys that order like it
            if matches(runs[r][i].key) { return (r, i) }
            i += 1
        }
        return nil
    }

    /// Adds a key that is not there.
    mutating func insert(_ key: JSON) {
        let k = OrderedSetKey(key)
        count += 1
        guard !runs.isEmpty else {
            runs = [[k]]
            return
        }
        var (r, i) = lowerBound(k)
        if r == runs.count { (r, i) = (runs.count - 1, runs[runs.count - 1].count) }
        runs[r].insert(k, at: i)
        if runs[r].count > Self.maxRun {
            let half = runs[r].count / 2
            runs.insert(Array(runs[r][half...]), at: r + 1)
            runs[r].removeSubrange(half...)
        }
    }

    mutating func remove(_ key: JSON) {
        // Keys of mixed types (a number and a string) need not order consistently: then the
        // key is looked for everywhere.
        guard let (r, i) = find(OrderedSetKey(key), { $0 == key }) ?? everywhere(key) else { return }
        runs[r].remove(at: i)
        count -= 1
        if runs[r].isEmpty { runs.remove(at: r) }
    }

    private func everywhere(_ key: JSON) -> (run: Int, at: Int)? {
        for (r, run) in runs.enumerated() {
            if let i = run.firstIndex(where: { $0.key == key }) { return (r, i) }
        }
        return nil
    }

    /// The first `n` keys.
    func first(_ n: Int) -> [JSON] {
        var out: [JSON] = []
        for run in runs {
            for k in run {
                if out.count >= n { return out }
                out.append(k.key)
            }
        }
        return out
    }

    /// The last `n` keys, in key order.
    func last(_ n: Int) -> [JSON] {
        var out: [JSON] = []
        for run in runs.reversed() {
            for k in run.reversed() {
                if out.count >= n { return out.reversed() }
                out.append(k.key)
            }
        }
        return out.reversed()
    }

    /// Up to `limit` keys after the key strictly equal to `after` (from the first key when
    /// `after` is nil), and whether more follow. A cursor that is no key gives an empty page
    /// with no more.
    func page(after: JSON?, limit: Int) -> (keys: [JSON], hasMore: Bool) {
        var (r, i) = (0, 0)
        if let after {
            guard let at = find(OrderedSetKey(after), { JSValue.strictEquals($0, after) }) else { return ([], false) }
            (r, i) = (at.run, at.at + 1)
        }
        var keys: [JSON] = []
        while r < runs.count {
            if i == runs[r].count {
                (r, i) = (r + 1, 0)
                continue
            }
            if keys.count >= limit { return (keys, true) }
            keys.append(runs[r][i].key)
            i += 1
        }
        return (keys, false)
    }
}
