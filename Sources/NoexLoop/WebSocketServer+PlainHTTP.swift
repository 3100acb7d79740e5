// Plain HTTP requests (metrics scrapes, health probes) handed to the delegate: see
// HTTPPlainResponse.swift for what counts as one.

extension WebSocketServer {
    /// A plain request completed its head: offer it to the delegate. Returns true when it was
    /// answered (the answer is queued and the connection closes after it is written).
    func answerPlainRequest(_ id: ConnectionID, _ head: HTTPRequestHead) -> Bool {
        guard head.isPlainRequest(webSocketPath: config.upgrade.path),
            let response = delegate?.onPlainRequest(self, head)
        else { return false }
        let now = nowMs
        guard connections.withValue(id, { $0.machine.plainRequestAnswered(nowMs: now, timing: timing) }) == true else { return true }
        enqueue(id, response.responseBytes(includeBody: head.method != "HEAD"), kind: .response)
        return true
    }
}
