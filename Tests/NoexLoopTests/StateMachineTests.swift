import Testing

@testable import NoexLoop

private typealias Action = ConnectionStateMachine.Action

/// The server's settings the machine is driven with: a 500 ms closing deadline, no heartbeat.
private let timing = ConnectionTiming(closingTimeoutMs: 500, heartbeat: nil)

private func openMachine(_ t: ConnectionTiming = timing) -> ConnectionStateMachine {
    var m = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
    #expect(m.upgradeFinished(.success(()), nowMs: 10, timing: t) == .acceptUpgrade)
    return m
}

@Suite struct ConnectionStateMachineTests {
    @Test func handshakeDeadlineDropsSilentClients() {
        var m = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
        #expect(m.tick(nowMs: 999, timing: timing) == .none)
        #expect(m.tick(nowMs: 1000, timing: timing) == .closeSocket)
        #expect(m.state == .closed)
        #expect(!m.wasOpened)
    }

    @Test func rejectedUpgradeSendsErrorThenShutsDown() {
        var m = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
        #expect(m.upgradeFinished(.failure(.notFound), nowMs: 5, timing: timing) == .rejectUpgrade(.notFound))
        #expect(!m.readsFrames)
        #expect(m.writesDrained(nowMs: 6) == .shutdownWrite)
        #expect(m.writesDrained(nowMs: 7) == .none)
        #expect(m.tick(nowMs: 504, timing: timing) == .none)
        #expect(m.tick(nowMs: 505, timing: timing) == .closeSocket)
    }

    @Test func openConnectionDeliversAndAnswers() {
        var m = openMachine()
        #expect(m.received(.text([1]), nowMs: 20, timing: timing) == .deliverText([1]))
        #expect(m.received(.binary([2]), nowMs: 20, timing: timing) == .deliverBinary([2]))
        #expect(m.received(.ping([3]), nowMs: 20, timing: timing) == .sendPong([3]))
        #expect(m.received(.pong([4]), nowMs: 20, timing: timing) == .none)
        #expect(m.isOpen)
    }

    @Test func peerInitiatedCloseIsEchoedAndServerClosesAfterDrain() {
        var m = openMachine()
        #expect(m.received(.close(code: 1000, reason: []), nowMs: 20, timing: timing) == .sendClose(code: 1000, reason: []))
        #expect(!m.isOpen)
        #expect(m.writesDrained(nowMs: 21) == .closeSocket)
        #expect(m.closeCode == 1000)
    }

    @Test func codelessCloseIsAnsweredWithoutCodeAndReportedAs1005() {
        var m = openMachine()
        #expect(m.received(.close(code: nil, reason: []), nowMs: 20, timing: timing) == .sendClose(code: nil, reason: []))
        #expect(m.closeCode == 1005)
    }

    @Test func serverInitiatedCloseWaitsForThePeer() {
        var m = openMachine()
        #expect(m.closeRequested(code: 1001, reason: [0x61], nowMs: 20, timing: timing) == .sendClose(code: 1001, reason: [0x61]))
        #expect(m.closeRequested(code: 1000, reason: [], nowMs: 21, timing: timing) == .none)
        #expect(m.readsFrames)
        #expect(m.received(.text([1]), nowMs: 22, timing: timing) == .none)
        #expect(m.writesDrained(nowMs: 23) == .shutdownWrite)
        #expect(m.received(.close(code: 1001, reason: []), nowMs: 24, timing: timing) == .closeSocket)
        #expect(m.closeCode == 1001)
    }

    @Test func peerCloseBeforeOurDrainClosesAtTheDrain() {
        var m = openMachine()
        _ = m.closeRequested(code: 1000, reason: [], nowMs: 20, timing: timing)
        #expect(m.received(.close(code: 1000, reason: []), nowMs: 21, timing: timing) == .none)
        #expect(m.writesDrained(nowMs: 22) == .closeSocket)
    }

    @Test func protocolFailureSendsCodeAndStopsReading() {
        var m = openMachine()
        #expect(m.received(.failure(.messageTooBig(limit: 10)), nowMs: 20, timing: timing)
                == .sendClose(code: 1009, reason: Array("message larger than the 10-byte limit (server setting maxPayloadBytes)".utf8)))
        #expect(!m.readsFrames)
        #expect(m.closeCode == 1009)
        #expect(m.writesDrained(nowMs: 21) == .shutdownWrite)
        #expect(m.peerDisconnected() == .closeSocket)
        #expect(m.peerDisconnected() == .none)
    }

    @Test func closingDeadlineClosesTheSocket() {
        var m = openMachine()
        _ = m.closeRequested(code: 1000, reason: [], nowMs: 100, timing: timing)
        #expect(m.tick(nowMs: 599, timing: timing) == .none)
        #expect(m.tick(nowMs: 600, timing: timing) == .closeSocket)
    }

    @Test func endOfStreamFlushesWhatIsQueuedBeforeClosing() {
        var m = openMachine()
        #expect(m.peerEnded(writesPending: true, nowMs: 20, timing: timing) == .none)
        #expect(!m.isOpen && !m.readsFrames)
        #expect(m.writesDrained(nowMs: 21) == .closeSocket)
        #expect(m.closeCode == 1006)
        var idle = openMachine()
        #expect(idle.peerEnded(writesPending: false, nowMs: 20, timing: timing) == .closeSocket)
        var rejected = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
        _ = rejected.upgradeFinished(.failure(.notFound), nowMs: 1, timing: timing)
        #expect(rejected.peerEnded(writesPending: true, nowMs: 2, timing: timing) == .none)
        #expect(rejected.writesDrained(nowMs: 3) == .closeSocket)
        #expect(rejected.peerEnded(writesPending: false, nowMs: 4, timing: timing) == .none)
    }

    @Test func abruptDisconnectReports1006() {
        var m = openMachine()
        #expect(m.peerDisconnected() == .closeSocket)
        #expect(m.closeCode == 1006)
    }

    @Test func heartbeatPingsThenTimesOutWith4001() {
        let timing = ConnectionTiming(closingTimeoutMs: 500, heartbeat: HeartbeatConfig(intervalMs: 100, timeoutMs: 50, style: .application))
        var m = openMachine(timing)
        #expect(m.tick(nowMs: 109, timing: timing) == .none)
        #expect(m.tick(nowMs: 110, timing: timing) == .sendPing)
        #expect(m.tick(nowMs: 159, timing: timing) == .none)
        #expect(m.tick(nowMs: 160, timing: timing) == .sendClose(code: 4001, reason: Array("heartbeat_timeout".utf8)))
        #expect(m.closeCode == 4001)
    }

    @Test func answeredHeartbeatKeepsTheConnection() {
        var timing = ConnectionTiming(closingTimeoutMs: 500, heartbeat: HeartbeatConfig(intervalMs: 100, timeoutMs: 50, style: .application))
        var m = openMachine(timing)
        #expect(m.tick(nowMs: 110, timing: timing) == .sendPing)
        m.pongReceived()
        #expect(m.tick(nowMs: 200, timing: timing) == .none)
        #expect(m.tick(nowMs: 210, timing: timing) == .sendPing)
        // WebSocket-style heartbeats are not answered by an application pong frame…
        timing.heartbeat?.style = .webSocketPing
        var w = openMachine(timing)
        #expect(w.tick(nowMs: 110, timing: timing) == .sendPing)
        #expect(w.received(.pong([]), nowMs: 120, timing: timing) == .none)
        #expect(w.tick(nowMs: 170, timing: timing) == .none)
    }

    @Test func closeRequestDuringHandshakeDropsTheSocket() {
        var m = ConnectionStateMachine(nowMs: 0, handshakeTimeoutMs: 1000)
        #expect(m.closeRequested(code: 1001, reason: [], nowMs: 1, timing: timing) == .closeSocket)
    }
}

@Suite struct WriteQueueTests {
    private let limits = WriteQueueLimits(lowWaterBytes: 4, highWaterBytes: 8, hardLimitBytes: 16)

    @Test func accountsPendingAndInFlightBytesAndCoalescesIntoOneBatch() {
        var q = WriteQueue()
        #expect(q.enqueue([1, 2], kind: .response, limits: limits) == (.queued, false))
        #expect(q.enqueue([3], kind: .push, limits: limits) == (.queued, false))
        #expect(q.bufferedBytes == 3)
        #expect(q.takeBatch() == [1, 2, 3])
        #expect(q.takeBatch() == nil)  // one write in flight at a time
        #expect(q.enqueue([4], kind: .response, limits: limits) == (.queued, false))
        #expect(q.inFlightBytes == 3 && q.pendingBytes == 1 && q.bufferedBytes == 4)
        #expect(q.batchWritten(limits: limits) == false)
        #expect(q.takeBatch() == [4])
        _ = q.batchWritten(limits: limits)
        #expect(q.isDrained)
    }

    @Test func waterMarksFireEdgesOnce() {
        var q = WriteQueue()
        #expect(q.enqueue([UInt8](repeating: 0, count: 8), kind: .response, limits: limits) == (.queued, false))
        #expect(q.enqueue([0], kind: .response, limits: limits) == (.queued, true))
        #expect(q.enqueue([0], kind: .response, limits: limits) == (.queued, false))
        #expect(!q.isWritable)
        _ = q.takeBatch()
        #expect(q.batchWritten(limits: limits) == true)
        #expect(q.isWritable)
        #expect(q.batchWritten(limits: limits) == false)
    }

    @Test func writabilityReturnsOnlyAtTheLowMark() {
        var q = WriteQueue()
        _ = q.enqueue([UInt8](repeating: 0, count: 9), kind: .response, limits: limits)
        _ = q.takeBatch()
        _ = q.enqueue([UInt8](repeating: 0, count: 5), kind: .response, limits: limits)
        #expect(q.batchWritten(limits: limits) == false)  // 5 > low water 4
        _ = q.takeBatch()
        #expect(q.batchWritten(limits: limits) == true)
    }

    @Test func responsesAreNeverDroppedButEventPushesAre() {
        var q = WriteQueue()
        _ = q.enqueue([UInt8](repeating: 0, count: 15), kind: .response, limits: limits)
        #expect(q.enqueue([1, 2], kind: .push, limits: limits).result == .dropped)
        #expect(q.droppedPushes == 1)
        #expect(q.enqueue([1, 2], kind: .response, limits: limits).result == .queued)
        #expect(q.isOverHardLimit(limits))
        #expect(q.bufferedBytes == 17)
    }

    @Test func coalescingPushesKeepOnlyTheNewestPerKey() {
        var q = WriteQueue()
        #expect(q.enqueue([1], kind: .coalescingPush(key: 7), limits: limits).result == .queued)
        #expect(q.enqueue([2], kind: .coalescingPush(key: 8), limits: limits).result == .queued)
        #expect(q.enqueue([3, 3], kind: .coalescingPush(key: 7), limits: limits).result == .coalesced)
        #expect(q.bufferedBytes == 3)
        #expect(q.takeBatch() == [3, 3, 2])
        // A push already in flight is not replaced; the new one queues behind it.
        #expect(q.enqueue([4], kind: .coalescingPush(key: 7), limits: limits).result == .queued)
    }

    @Test func aBatchIsWrittenOverSeveralSendsFromWhereTheKernelStopped() {
        var q = WriteQueue()
        _ = q.enqueue([1, 2, 3, 4, 5], kind: .response, limits: limits)
        _ = q.takeBatch()
        _ = q.enqueue([6], kind: .response, limits: limits)  // the next batch meanwhile
        #expect(q.sent(2) == false)
        #expect(q.inFlightBytes == 3 && q.bufferedBytes == 4)
        #expect(q.withUnsentBytes { Array($0) } == [3, 4, 5])
        #expect(q.sent(3) == true)
        // The written buffer goes to another queue, emptied, with its capacity.
        let buffer = q.takeWrittenBuffer()
        #expect(buffer.isEmpty && buffer.capacity >= 5)
        #expect(q.batchWritten(limits: limits) == false)
        #expect(q.takeBatch() == [6])
        var other = WriteQueue()
        #expect(other.wantsBuffer)
        other.adoptBuffer(buffer)
        #expect(!other.wantsBuffer && other.isDrained)
        _ = other.enqueue([7, 8], kind: .response, limits: limits)
        #expect(other.takeBatch() == [7, 8])
    }
}

@Suite struct SlabTests {
    @Test func reusedSlotsGetANewGeneration() {
        let slab = Slab<String>()
        let a = slab.insert("a")
        #expect(slab.remove(a) == "a")
        let b = slab.insert("b")
        #expect(b.index == a.index && b.generation == a.generation + 1)
        #expect(slab[a] == nil)
        #expect(slab.withValue(a) { $0 = "x" } == nil)
        #expect(slab[b] == "b")
        #expect(slab.count == 1)
    }

    /// Growth moves the occupants; every id keeps naming its own value, freed slots are reused,
    /// and the slab releases what it holds (removed values at once, the rest when it goes).
    @Test func growsAndReleasesWhatItHolds() {
        final class Counted {
            nonisolated(unsafe) static var alive = 0
            let n: Int
            init(_ n: Int) { self.n = n; Counted.alive += 1 }
            deinit { Counted.alive -= 1 }
        }
        do {
            let slab = Slab<Counted>(capacity: 2)
            var ids: [Int: ConnectionID] = [:]
            for n in 0..<100 { ids[n] = slab.insert(Counted(n)) }
            for n in stride(from: 0, to: 100, by: 3) { #expect(slab.remove(ids[n]!)?.n == n); ids[n] = nil }
            #expect(Counted.alive == 66)
            for n in 100..<120 { ids[n] = slab.insert(Counted(n)) }
            #expect(slab.count == 86 && Counted.alive == 86)
            for (n, id) in ids { #expect(slab.withValue(id) { $0.n } == n) }
            #expect(Set(slab.ids) == Set(ids.values))
        }
        #expect(Counted.alive == 0)
    }

    @Test func idsRoundTripThroughPointerBits() {
        let id = ConnectionID(index: 5, generation: 9)
        #expect(id.bitPattern != 0)
        #expect(ConnectionID(bitPattern: id.bitPattern) == id)
        #expect(ConnectionID(bitPattern: 0) == nil)
    }
}
