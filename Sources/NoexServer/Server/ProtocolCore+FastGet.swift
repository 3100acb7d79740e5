#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NoexJSON
import NoexStore

/// The fast path for the common `store.get` (docs/architecture.md, "The store.get fast path";
/// bench/README.md, issue 13, fifth round): the message is read as byte ranges
/// (`FastGetRequest`) and answered straight from the record's stored text, with no `Request`,
/// no `JSON` members and no result `JSON` built.
///
/// It does exactly what the general path does for such a request, step for step: count the
/// request, look the record up, write the answer with `ServerMessage.writeResult` into the kept
/// buffer, hand it to `respond` (the same transport, so a commit gate holds it in order, and
/// the same `BACKPRESSURE` replacement), then flush deferred pushes. Everything else the
/// general path may do makes the fast path step aside, before anything is counted or changed:
/// auth, rate limiting, built-in identity, the audit log and cluster mode (`fastGetAllowed`),
/// a bucket that starts with `_` (the system-bucket guard decides), a bucket the store does
/// not have (its error answer), and any message that is not exactly such a `store.get`.
extension ProtocolCore {
    /// Whether this server's configuration lets a `store.get` skip the general pipeline: none
    /// of the steps above that the fast path does not repeat can apply to it.
    var fastGetAllowed: Bool {
        config.fastGetPath && gate.auth == nil && rateLimiter == nil && cluster == nil
            && identity == nil && audit == nil
    }

    /// Answers `bytes` if it is a plain `store.get` the fast path may take; false (nothing
    /// counted, nothing sent) when the general path must handle it.
    func answeredFastGet(_ state: ConnectionState, _ bytes: UnsafeRawBufferPointer) -> Bool {
        // Every other request is offered to the fast path too: a message without the bytes
        // `"store.get"` (a plain store.get's type, unescaped) cannot be one, and finding that
        // out costs a fraction of the scan that declines it at its `type` member.
        guard Self.mayBeStoreGet(bytes) else { return false }
        var get = FastGetRequest()
        // An empty bucket (a validation error) or one that may be guarded: the general path.
        guard get.scan(bytes), let first = get.bucket.first, first != UInt8(ascii: "_") else { return false }
        let writesBefore = commitGate?.durable.mutationCount
        let found = store.recordText(bucket: get.bucket, asciiKey: get.key)
        if case .noBucket = found { return false }  // the general path answers the error
        // From here on as `handle` and `finishRequest` for a successful store.get.
        let op = metrics.countRequest(.storeGet)
        let id = JSON.int(get.id)
        if case .text(let text) = found {
            ServerMessage.writeResult(id: get.id, text: text, into: &answerBuffer)
        } else {
            ServerMessage.writeResult(id: id, data: .null, into: &answerBuffer)
        }
        if let g = commitGate, g.durable.mutationCount != writesBefore { g.writeReplyID = id }
        if !respond(state.id, answerBuffer, requestID: id) { metrics.countError(op, .backpressure) }
        if answerBuffer.capacity > Self.answerBufferKeptBytes { answerBuffer = [] }
        flushDeferredPushes()
        return true
    }

    private static let storeGetType: StaticString = #""store.get""#

    /// Whether `bytes` contain `"store.get"`. Found from its `.`, which `memchr` finds with
    /// vector loads and of which a request has few (`memmem` cost ~270 instructions per get).
    static func mayBeStoreGet(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let needle = storeGetType
        let dotOffset = 6  // `"store` comes before the dot, `get"` after it
        let last = bytes.count - (needle.utf8CodeUnitCount - dotOffset)  // the last index the dot may have
        var from = dotOffset
        while from <= last {
            guard let hit = memchr(base + from, Int32(UInt8(ascii: ".")), last - from + 1) else { return false }
            let dot = UnsafeRawPointer(hit) - base
            if memcmp(base + dot - dotOffset, needle.utf8Start, needle.utf8CodeUnitCount) == 0 { return true }
            from = dot + 1
        }
        return false
    }
}
