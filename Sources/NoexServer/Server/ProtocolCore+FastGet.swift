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
}
