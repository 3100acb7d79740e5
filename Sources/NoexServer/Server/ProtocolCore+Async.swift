import CUV
import NoexJSON
import NoexLoop

/// Requests whose answer is computed off the loop (password hashing on libuv's threadpool).
///
/// While a connection has such a request in flight, its later frames wait in
/// `ConnectionState.waiting` and are handled, in order, once the answer went out: answers stay
/// in request order, as in the original's per-connection mailbox. From `holdReadingAt` waiting
/// frames on, the transport stops reading the socket, so a client pipelining behind a login is
/// held back by its own TCP window; `maxWaitingFrames` / `maxWaitingBytes` are the backstop for
/// a transport that cannot hold (a client past them is closed with 1008). Other connections never wait: the loop keeps serving them while the hash runs. A
/// connection that closes meanwhile is forgotten and its completion ignored; `stop` lets the
/// loop finish the jobs already queued (each is one hash) before it returns.
extension ProtocolCore {
    /// Frames a connection may queue behind an answer in flight.
    static let maxWaitingFrames = 64
    /// Waiting frames from which the transport stops reading the connection.
    static let holdReadingAt = 8
    /// Bytes a connection may queue behind an answer in flight (at least one largest message).
    var maxWaitingBytes: Int { max(config.maxPayloadBytes, 4 * 1024 * 1024) }
    /// Hashes running on the threadpool at once: the rest of libuv's threadpool (4 threads by
    /// default) stays free for the storage engine's fsyncs.
    static let maxConcurrentHashes = 2

    /// A frame arrived while the connection waits for an answer: queue it, or close the
    /// connection if it queues too much.
    func queueBehindInFlight(_ state: ConnectionState, _ bytes: [UInt8]) {
        if state.waiting.count >= Self.maxWaitingFrames || state.waitingBytes + bytes.count > maxWaitingBytes {
            state.waiting = []
            state.waitingBytes = 0
            transport.close(state.id, code: 1008, reason: "too_many_pending_requests")
            return
        }
        state.waiting.append(bytes)
        state.waitingBytes += bytes.count
        if !state.readHeld, state.waiting.count >= Self.holdReadingAt || state.waitingBytes >= config.maxPayloadBytes {
            state.readHeld = true
            transport.holdReading(state.id, true)
        }
    }

    /// Starts the threadpool part of `request`'s answer; `finishRequest` sends it later.
    func startDeferred(_ deferred: DeferredAnswer, _ request: Request, _ state: ConnectionState, op: Int, sessionBefore: AuthSession?) {
        state.inFlight = true
        // Returns false (nothing started) when the connection closed while the job waited.
        let run = { [weak self, weak state] () -> Bool in
            guard let self, let waiting = state, self.connections[waiting.id] === waiting else { return false }
            ThreadpoolJob.run(on: self.loop, deferred.work) { [weak self] outcome in
                guard let self else { return }
                self.hashesRunning -= 1
                self.startQueuedHashes()
                guard let state, self.connections[state.id] === state else { return }  // closed meanwhile
                state.inFlight = false
                let writesBefore = self.commitGate?.durable.mutationCount
                let result: Result<JSON, ServerError>
                do throws(ServerError) {
                    result = .success(try deferred.finish(outcome, state, IdentityNow(wall: self.clock.wallMs(), monotonic: self.clock.monotonicMs())))
                } catch {
                    result = .failure(error)
                }
                self.finishRequest(request, state, op: op, result, writesBefore: writesBefore, sessionBefore: sessionBefore)
                self.drainWaiting(state)
            }
            return true
        }
        hashQueue.append(run)
        startQueuedHashes()
    }

    private func startQueuedHashes() {
        while hashesRunning < Self.maxConcurrentHashes, !hashQueue.isEmpty {
            if hashQueue.removeFirst()() { hashesRunning += 1 }
        }
    }

    /// Handles the frames that waited, until one of them goes off the loop again.
    func drainWaiting(_ state: ConnectionState) {
        while !state.inFlight, !state.waiting.isEmpty, connections[state.id] === state {
            let bytes = state.waiting.removeFirst()
            state.waitingBytes -= bytes.count
            bytes.withUnsafeBytes { process(state, $0) }
        }
        // Everything that waited was handled: read again (frames held in the transport follow).
        if state.readHeld, !state.inFlight, connections[state.id] === state {
            state.readHeld = false
            transport.holdReading(state.id, false)
        }
    }
}
