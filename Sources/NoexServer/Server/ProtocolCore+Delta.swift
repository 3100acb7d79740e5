import NoexJSON
import NoexLoop
import NoexStore

// Delta subscriptions (`store.subscribe` with `"delta": true`,
// docs/protocol/store-operations.md#delta-subscriptions): after the initial result, each push
// carries what changed since the previous one, numbered so that a client can tell when it
// missed one; after a loss the server sends the whole result again (a resync).
//
// A delta depends on every delta before it, so delta pushes are never coalesced: each one gets
// a push key of its own (`DeltaPushKey`). The transport's hard limit still bounds the queue — a
// push that does not fit is dropped and its key reported stale — and the stream then waits,
// sending nothing, until the queue has drained and one resync can go out.

/// Push keys of delta subscriptions: the top bit set, the subscription's `N` (of `sub-N`), and
/// the low 24 bits of the push's sequence number, so that no two pending pushes share a key.
/// Keys of full-result subscriptions are `N` alone (top bit clear).
enum DeltaPushKey {
    static let marker: UInt64 = 1 << 63

    static func make(subscription n: UInt64, seq: UInt64) -> UInt64 { marker | (n << 24) | (seq & 0xFF_FFFF) }
    static func isDelta(_ key: UInt64) -> Bool { key & marker != 0 }
    static func subscription(_ key: UInt64) -> UInt64 { (key & ~marker) >> 24 }
}

/// One delta subscription's position in its stream.
struct DeltaStream {
    /// The number of the last push sent (0: the subscribe answer).
    var seq: UInt64 = 0
    /// How records are matched (`Store.resultKeyField`).
    let keyField: String?
    /// A push was dropped: nothing more is sent until the resync.
    var awaitingResync = false
}

/// The core's delta state: the streams, and the serialised delta bodies of recent evaluations,
/// shared by every delta subscriber of the same query and params.
struct DeltaStreams {
    /// By subscription number (`N` of `sub-N`).
    var streams: [UInt64: DeltaStream] = [:]
    /// Diffs worked out so far (one per evaluation and distinct previous result, not per subscriber).
    private(set) var diffsComputed = 0

    private struct SharedBody {
        var from: UInt64
        var previous: JSON
        var keyField: String?
        var bytes: [UInt8]
    }

    /// By the evaluation the body leads to; only the latest few are kept (a dispatch shares
    /// them while it runs, later pushes come from newer evaluations).
    private var bodies: [UInt64: [SharedBody]] = [:]
    private static let keptEvaluations = 8

    /// The body of a delta push for `update` — `"ops":[…]` or `"value":…` — worked out once
    /// per evaluation and previous result.
    mutating func body(for update: QueryUpdate, keyField: String?) -> [UInt8] {
        if let shared = bodies[update.evaluation] {
            if let hit = shared.first(where: { $0.from == update.previousEvaluation && $0.keyField == keyField }) {
                return hit.bytes
            }
            // Subscriptions made at different times hold equal results from different evaluations.
            if let i = shared.firstIndex(where: { $0.keyField == keyField && $0.previous == update.previous }) {
                bodies[update.evaluation]![i].from = update.previousEvaluation
                return shared[i].bytes
            }
        }
        diffsComputed += 1
        let bytes = Self.serialise(ResultDelta.between(update.previous, update.result, keyField: keyField))
        if bodies[update.evaluation] == nil, bodies.count >= Self.keptEvaluations, let oldest = bodies.keys.min() {
            bodies[oldest] = nil
        }
        bodies[update.evaluation, default: []].append(
            SharedBody(from: update.previousEvaluation, previous: update.previous, keyField: keyField, bytes: bytes))
        return bytes
    }

    /// A push the transport dropped: if it was a delta push, its stream waits for the resync.
    mutating func dropped(_ kind: SendKind) {
        guard case .coalescingPush(let key) = kind, DeltaPushKey.isDelta(key) else { return }
        streams[DeltaPushKey.subscription(key)]?.awaitingResync = true
    }

    static func serialise(_ delta: ResultDelta) -> [UInt8] {
        var out = JSONTextBuilder()
        switch delta {
        case .value(let v):
            out.raw(#""value":"#)
            out.value(v)
        case .ops(let ops):
            out.raw(#""ops":["#)
            for (n, op) in ops.enumerated() {
                if n > 0 { out.raw(",") }
                switch op {
                case .remove(let i):
                    out.raw(#"{"op":"remove","index":"#)
                    out.value(.int(Int64(i)))
                case .insert(let i, let record):
                    out.raw(#"{"op":"insert","index":"#)
                    out.value(.int(Int64(i)))
                    out.raw(#","record":"#)
                    out.value(record)
                case .replace(let i, let record):
                    out.raw(#"{"op":"replace","index":"#)
                    out.value(.int(Int64(i)))
                    out.raw(#","record":"#)
                    out.value(record)
                }
                out.raw("}")
            }
            out.raw("]")
        }
        return out.finish()
    }
}

/// The two push shapes of a delta subscription, in the envelope of a subscription push.
enum DeltaMessage {
    /// `{"type":"push",…,"data":{"delta":{"base":B,"seq":S,<body>}}}`
    static func delta(subscriptionId: String, base: UInt64, seq: UInt64, body: [UInt8]) -> [UInt8] {
        var out = JSONTextBuilder(capacity: 120 + body.count)
        envelope(&out, subscriptionId)
        out.raw(#"{"delta":{"base":"#)
        out.value(.int(Int64(base)))
        out.raw(#","seq":"#)
        out.value(.int(Int64(seq)))
        out.raw(",")
        out.raw(body)
        out.raw("}}}")
        return out.finish()
    }

    /// `{"type":"push",…,"data":{"resync":{"seq":S,"value":<result>}}}`
    static func resync(subscriptionId: String, seq: UInt64, result: JSON) -> [UInt8] {
        var out = JSONTextBuilder(capacity: 120 + result.initialCapacityGuess)
        envelope(&out, subscriptionId)
        out.raw(#"{"resync":{"seq":"#)
        out.value(.int(Int64(seq)))
        out.raw(#","value":"#)
        out.value(result)
        out.raw("}}}")
        return out.finish()
    }

    /// A subscription push up to its `data` value (the key order of every subscription push).
    private static func envelope(_ out: inout JSONTextBuilder, _ subscriptionId: String) {
        out.raw(#"{"type":"push","channel":"subscription","subscriptionId":"#)
        out.string(subscriptionId)
        out.raw(#","data":"#)
    }
}

extension ProtocolCore {
    /// The `delta` field of `store.subscribe`: absent or `null` mean false.
    func deltaRequested(_ r: Request) throws(ServerError) -> Bool {
        switch r["delta"] {
        case nil, .null?: return false
        case .bool(let b)?: return b
        default:
            throw ServerError(.validationError, "Invalid \"delta\": expected boolean (true for delta pushes, false or absent for full results)")
        }
    }

    /// Starts the stream of a new delta subscription.
    func startDeltaStream(subscription n: Int, query: String) {
        deltaStreams.streams[UInt64(n)] = DeltaStream(keyField: store.resultKeyField(query: query))
    }

    /// A changed result of a delta subscription: one delta push, unless the stream waits for
    /// a resync.
    func pushDelta(_ id: ConnectionID, wireID: String, number: UInt64, _ update: QueryUpdate) {
        guard var stream = deltaStreams.streams[number], !stream.awaitingResync else { return }
        let body = deltaStreams.body(for: update, keyField: stream.keyField)
        stream.seq += 1
        deltaStreams.streams[number] = stream
        push(id, DeltaMessage.delta(subscriptionId: wireID, base: stream.seq - 1, seq: stream.seq, body: body),
             kind: .coalescingPush(key: DeltaPushKey.make(subscription: number, seq: stream.seq)))
    }

    /// Pushes of these delta streams were lost (dropped over the hard limit, or held back by a
    /// failed commit): send each stream's current result whole, once per stream.
    func resyncDeltaStreams(_ id: ConnectionID, keys: [UInt64]) {
        guard let state = connections[id] else { return }
        var done = Set<UInt64>()
        for key in keys {
            let n = DeltaPushKey.subscription(key)
            guard done.insert(n).inserted else { continue }
            let wireID = "sub-\(n)"
            guard let sub = state.storeSubscriptions[wireID], let result = store.lastResult(of: sub),
                  var stream = deltaStreams.streams[n] else { continue }
            stream.seq += 1
            stream.awaitingResync = false
            deltaStreams.streams[n] = stream
            push(id, DeltaMessage.resync(subscriptionId: wireID, seq: stream.seq, result: result),
                 kind: .coalescingPush(key: DeltaPushKey.make(subscription: n, seq: stream.seq)))
        }
    }
}
