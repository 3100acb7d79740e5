import NoexJSON

/// What changed between two results of one query, for delta subscriptions
/// (docs/protocol/store-operations.md#delta-subscriptions).
///
/// Array results whose elements are records with a unique key become a list of operations;
/// anything else — a scalar, an object, an array without usable keys, or a change so large that
/// the operations would carry as much as the result itself — is a whole new value.
public enum ResultDelta: Equatable {
    /// Apply in order to the previous array; every index refers to the array as it is after the
    /// operations before it.
    case ops([Op])
    /// The new result, whole.
    case value(JSON)

    public enum Op: Equatable {
        /// Take out the element at `index`.
        case remove(index: Int)
        /// Put `record` in at `index` (elements from `index` on move one up).
        case insert(index: Int, record: JSON)
        /// The element at `index` is now `record` (same key, changed fields).
        case replace(index: Int, record: JSON)
    }

    /// The delta that turns `old` into `new`. Array elements are matched by `keyField`; when
    /// that is nil, or an element in the part where the arrays differ is not an object with a
    /// non-null value there unique within that part, the result is `.value(new)`. (The equal
    /// head and tail are left as they are, so they need no keys.)
    public static func between(_ old: JSON, _ new: JSON, keyField: String?) -> ResultDelta {
        guard let keyField, case .array(let a) = old, case .array(let b) = new,
              let ops = ArrayDiff(old: a, new: b, keyField: keyField).ops()
        else { return .value(new) }
        return .ops(ops)
    }
}

/// Keyed array diff: unchanged head and tail are skipped; in the middle, the kept records are
/// the longest run that is in the same relative order in both arrays, everything else is
/// removed and (if still present) inserted at its new place.
private struct ArrayDiff {
    let old: [JSON]
    let new: [JSON]
    let keyField: String

    func ops() -> [ResultDelta.Op]? {
        var head = 0
        while head < old.count && head < new.count && old[head] == new[head] { head += 1 }
        var oldEnd = old.count, newEnd = new.count
        while oldEnd > head && newEnd > head && old[oldEnd - 1] == new[newEnd - 1] {
            oldEnd -= 1
            newEnd -= 1
        }
        // The middle of `new`: key → index.
        var newIndex: [JSON: Int] = [:]
        newIndex.reserveCapacity(newEnd - head)
        for j in head..<newEnd {
            guard let k = key(new[j]), newIndex.updateValue(j, forKey: k) == nil else { return nil }
        }
        // The middle of `old`: for each record still present, its new index.
        var oldKeys: [JSON] = []
        oldKeys.reserveCapacity(oldEnd - head)
        var seen = Set<JSON>()
        var present: [(old: Int, new: Int)] = []
        for i in head..<oldEnd {
            guard let k = key(old[i]), seen.insert(k).inserted else { return nil }
            oldKeys.append(k)
            if let j = newIndex[k] { present.append((i, j)) }
        }
        let kept = Self.longestIncreasingRun(present)
        var keptOld: [JSON: Int] = [:]  // key → old index, for the kept records
        for p in kept { keptOld[oldKeys[p.old - head]] = p.old }

        var ops: [ResultDelta.Op] = []
        var records = 0  // records the ops carry
        for i in stride(from: oldEnd - 1, through: head, by: -1) where keptOld[oldKeys[i - head]] != i {
            ops.append(.remove(index: i))
        }
        for j in head..<newEnd {
            let k = key(new[j])!
            if let i = keptOld[k] {
                if old[i] != new[j] {
                    ops.append(.replace(index: j, record: new[j]))
                    records += 1
                }
            } else {
                ops.append(.insert(index: j, record: new[j]))
                records += 1
            }
            // Not smaller than the whole result: send that instead.
            if records >= new.count || ops.count > new.count { return nil }
        }
        if ops.count > new.count { return nil }
        return ops
    }

    private func key(_ element: JSON) -> JSON? {
        guard case .object(let o) = element, let k = o[keyField], !k.isNull else { return nil }
        return k
    }

    /// The longest subsequence of `pairs` (in old order) whose new indices increase.
    /// O(n log n) patience sorting.
    static func longestIncreasingRun(_ pairs: [(old: Int, new: Int)]) -> [(old: Int, new: Int)] {
        guard !pairs.isEmpty else { return [] }
        var tails: [Int] = []  // index into pairs of the smallest tail of each run length
        var previous = [Int](repeating: -1, count: pairs.count)
        for (n, p) in pairs.enumerated() {
            var lo = 0, hi = tails.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if pairs[tails[mid]].new < p.new { lo = mid + 1 } else { hi = mid }
            }
            if lo > 0 { previous[n] = tails[lo - 1] }
            if lo == tails.count { tails.append(n) } else { tails[lo] = n }
        }
        var run: [(old: Int, new: Int)] = []
        var n = tails.last!
        while n >= 0 {
            run.append(pairs[n])
            n = previous[n]
        }
        return run.reversed()
    }
}

extension Store {
    /// The field that identifies a record in the results of query `name`: the key field of a
    /// declarative query's bucket, `id` for other queries (whose results a delta falls back to
    /// whole values for when their elements carry no unique `id`).
    public func resultKeyField(query name: String) -> String? {
        switch queries[name]?.body {
        case .declarative(let d)?: return buckets[d.bucket]?.keyField
        case nil: return nil
        default: return "id"
        }
    }
}
