import Dispatch
import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// The built `noex-server` binary under continuous writes (inserts and transactions), killed
/// with SIGKILL at a random moment, several rounds on one database: every write whose answer
/// arrived is there after the restart, and no transaction is half-applied.
@Suite(.serialized) struct DurableCrashTests {
    /// A running binary and the port it printed in its banner.
    private final class Child {
        let process = Process()
        let port: Int

        init(db: String, fsync: String, config: String, engine: String = "sqlite") throws {
            port = try launchServerBinary(process, ["-p", "0", "-H", "127.0.0.1", "-c", config, "--persistence", engine,
                                                    engine == "sqlite" ? "--db" : "--data-dir", db, "--fsync", fsync])
        }

        func kill() {
            _ = Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// What one writer learned: answered writes, and transactions sent without an answer.
    private final class WriterLog: @unchecked Sendable {
        var acknowledged: [String] = []
        var unanswered: [[String]] = []
        /// Signalled once, at the first acknowledged write (the kill waits for it).
        let firstAck = DispatchSemaphore(value: 0)
        func ack(_ keys: [String]) {
            if acknowledged.isEmpty { firstAck.signal() }
            acknowledged += keys
        }
    }

    /// A connected client handed to one writer thread (used by that thread only).
    private struct Handoff: @unchecked Sendable { let client: WireStoreClient }

    private func write(_ c: WireStoreClient, prefix: String, log: WriterLog) {
        for n in 0..<20_000 {
            if n % 3 == 2 {
                let keys = (0..<3).map { "\(prefix)-t\(n)-\($0)" }
                let ops: [JSON] = keys.map { ["op": "insert", "bucket": "items", "data": ["sku": .string($0), "name": "tx"]] }
                guard let answer = c.askRaw(["type": "store.transaction", "operations": .array(ops)]) else {
                    log.unanswered.append(keys)
                    return
                }
                if answer.contains(#""type":"result""#) { log.ack(keys) }
            } else {
                let key = "\(prefix)-i\(n)"
                guard let answer = c.askRaw(["type": "store.insert", "bucket": "items", "data": ["sku": .string(key), "name": "one"]]) else {
                    log.unanswered.append([key])
                    return
                }
                if answer.contains(#""type":"result""#) { log.ack([key]) }
            }
        }
    }

    @Test(arguments: ["everysec", "always"])
    func acknowledgedWritesSurviveSIGKILL(_ fsync: String) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let config = dir.file("config.json")
        // The final `store.all` can pass the default 1 MiB write limit (it would answer BACKPRESSURE).
        try #"{"backpressure": {"maxBufferedBytes": 67108864}, "buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true}, "name": {"type": "string"}}}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        var acknowledged: Set<String> = []
        var unanswered: [[String]] = []
        for round in 0..<4 {
            let child = try Child(db: db, fsync: fsync, config: config)
            defer { if child.process.isRunning { child.kill() } }
            // what the previous rounds were told is there, and no transaction is half-applied
            let reader = try WireStoreClient(port: child.port)
            let present = Set(reader.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } ?? [])
            let missing = acknowledged.subtracting(present)
            #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged writes lost, e.g. \(missing.first ?? "")")
            for keys in unanswered {
                let found = keys.filter(present.contains)
                #expect(found.isEmpty || found.count == keys.count, "round \(round): half-applied \(keys) → \(found)")
            }
            unanswered = []
            // writers until the kill
            let logs = (0..<3).map { _ in WriterLog() }
            let group = DispatchGroup()
            let clients = try logs.map { _ in Handoff(client: try WireStoreClient(port: child.port)) }
            for (w, (log, handoff)) in zip(logs, clients).enumerated() {
                DispatchQueue.global().async(group: group) {
                    self.write(handoff.client, prefix: "r\(round)w\(w)", log: log)
                }
            }
            // a random moment once writes flow (a loaded machine may take a while to get there)
            #expect(logs[0].firstAck.wait(timeout: .now() + 20) == .success, "round \(round): no write acknowledged")
            usleep(UInt32.random(in: 50_000...400_000))
            child.kill()
            #expect(group.wait(timeout: .now() + 20) == .success, "writers did not stop after the kill")
            for log in logs {
                acknowledged.formUnion(log.acknowledged)
                unanswered += log.unanswered
            }
        }
        let child = try Child(db: db, fsync: fsync, config: config)
        defer { child.kill() }
        let reader = try WireStoreClient(port: child.port)
        let present = Set(reader.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } ?? [])
        #expect(acknowledged.subtracting(present).isEmpty)
        for keys in unanswered {
            let found = keys.filter(present.contains)
            #expect(found.isEmpty || found.count == keys.count, "half-applied \(keys) → \(found)")
        }
        #expect(acknowledged.count > 100)
    }

    /// What one churning writer knows: each of its keys' acknowledged quantity (nil: deleted or
    /// never inserted), and the write sent last without an answer (it may or may not be there).
    private final class ChurnLog: @unchecked Sendable {
        var state: [String: Int64] = [:]
        var unanswered: (key: String, qty: Int64?)?
        let firstAck = DispatchSemaphore(value: 0)
        var acks = 0
    }

    /// Inserts, updates and deletes over a few keys, each write awaited, until the kill.
    private func churn(_ c: WireStoreClient, keys: [String], log: ChurnLog) {
        for n in 0..<20_000 {
            let key = keys.randomElement()!
            let qty = Int64(n + 1)
            let request: JSONObject
            let after: Int64?
            if log.state[key] == nil {
                request = ["type": "store.insert", "bucket": "items", "data": ["sku": .string(key), "name": "c", "qty": .int(qty)]]
                after = qty
            } else if Bool.random() {
                request = ["type": "store.update", "bucket": "items", "key": .string(key), "data": ["qty": .int(qty)]]
                after = qty
            } else {
                request = ["type": "store.delete", "bucket": "items", "key": .string(key)]
                after = nil
            }
            guard let answer = c.askRaw(request) else {
                log.unanswered = (key, after)
                return
            }
            guard answer.contains(#""type":"result""#) else { continue }
            log.state[key] = after
            log.acks += 1
            if log.acks == 1 { log.firstAck.signal() }
        }
    }

    /// Format version 2 keeps no unique index: the server finds each row by its record's rowid
    /// in the store. Under inserts, updates, deletes and re-inserts of the same keys, killed with
    /// SIGKILL at random moments: the table never holds two rows for one key, and every
    /// acknowledged state is what the restart loads (the unanswered last write either way).
    @Test func rowsStayOnePerKeyUnderChurnAndSIGKILL() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let config = dir.file("config.json")
        try #"{"buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true}, "name": {"type": "string"}, "qty": {"type": "number"}}}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let logs = (0..<3).map { _ in ChurnLog() }
        let keys = (0..<3).map { w in (0..<12).map { "w\(w)-k\($0)" } }
        for round in 0...4 {
            if round > 0 {
                let rows = try DurableFormatTests.rows(db)
                #expect(rows.duplicated == 0, "round \(round): \(rows.duplicated) keys with more than one row")
            }
            let child = try Child(db: db, fsync: "everysec", config: config)
            defer { if child.process.isRunning { child.kill() } }
            let reader = try WireStoreClient(port: child.port)
            var present: [String: Int64] = [:]
            for r in reader.data(["type": "store.all", "bucket": "items"]).arrayValue ?? [] {
                if let sku = r["sku"]?.stringValue { present[sku] = r["qty"]?.intValue }
            }
            for log in logs {
                for key in Set(log.state.keys).union(log.unanswered.map { [$0.key] } ?? []) {
                    let acknowledged = log.state[key]
                    if let u = log.unanswered, u.key == key {
                        #expect(present[key] == acknowledged || present[key] == u.qty,
                                "round \(round): \(key) is \(present[key].map(String.init) ?? "absent"), acknowledged \(acknowledged.map(String.init) ?? "absent")")
                    } else {
                        #expect(present[key] == acknowledged,
                                "round \(round): \(key) is \(present[key].map(String.init) ?? "absent"), acknowledged \(acknowledged.map(String.init) ?? "absent")")
                    }
                }
                // continue from what is there
                for key in keys.joined() where log.state.keys.contains(key) || log.unanswered?.key == key { log.state[key] = present[key] }
                log.unanswered = nil
            }
            guard round < 4 else { break }
            let group = DispatchGroup()
            let clients = try logs.map { _ in Handoff(client: try WireStoreClient(port: child.port)) }
            for (w, (log, handoff)) in zip(logs, clients).enumerated() {
                log.acks = 0
                DispatchQueue.global().async(group: group) { self.churn(handoff.client, keys: keys[w], log: log) }
            }
            #expect(logs[0].firstAck.wait(timeout: .now() + 20) == .success, "round \(round): no write acknowledged")
            usleep(UInt32.random(in: 50_000...400_000))
            child.kill()
            #expect(group.wait(timeout: .now() + 20) == .success, "writers did not stop after the kill")
        }
    }

    /// `--persistence file` promises less (the last ~100 ms may be lost) but never a torn
    /// state: after each SIGKILL every file loads, and what each writer finds of its own
    /// sequential writes is a prefix of them (a snapshot of one moment), with every
    /// transaction all there or not at all.
    @Test func fileEngineSnapshotsAreNeverTornBySIGKILL() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        let config = dir.file("config.json")
        // The final `store.all` can pass the default 1 MiB write limit (it would answer BACKPRESSURE).
        try #"{"backpressure": {"maxBufferedBytes": 67108864}, "buckets": {"items": {"key": "sku", "schema": {"sku": {"type": "string", "required": true}, "name": {"type": "string"}}}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        var writers: [String] = []
        var seen = 0
        for round in 0...4 {
            let child = try Child(db: data, fsync: "everysec", config: config, engine: "file")
            defer { if child.process.isRunning { child.kill() } }
            let reader = try WireStoreClient(port: child.port)
            let present = reader.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } ?? []
            seen = present.count
            // per writer: the operation numbers present must be exactly 0...max
            var ops: [String: Set<Int>] = [:]
            var txKeys: [String: Int] = [:]
            for key in present {
                let parts = key.split(separator: "-")
                guard parts.count >= 2, let n = Int(parts[1].dropFirst()) else { continue }
                ops[String(parts[0]), default: []].insert(n)
                if parts[1].hasPrefix("t") { txKeys["\(parts[0])-\(parts[1])", default: 0] += 1 }
            }
            for w in writers {
                let found = ops[w] ?? []
                if let top = found.max() { #expect(found.count == top + 1, "round \(round): writer \(w) has gaps: \(found.count) of 0...\(top)") }
            }
            for (tx, count) in txKeys { #expect(count == 3, "round \(round): transaction \(tx) half-applied (\(count) of 3)") }
            guard round < 4 else { break }
            let logs = (0..<3).map { _ in WriterLog() }
            let group = DispatchGroup()
            let clients = try logs.map { _ in Handoff(client: try WireStoreClient(port: child.port)) }
            for (w, (log, handoff)) in zip(logs, clients).enumerated() {
                writers.append("r\(round)w\(w)")
                DispatchQueue.global().async(group: group) {
                    self.write(handoff.client, prefix: "r\(round)w\(w)", log: log)
                }
            }
            #expect(logs[0].firstAck.wait(timeout: .now() + 20) == .success, "round \(round): no write acknowledged")
            usleep(UInt32.random(in: 300_000...800_000))
            child.kill()
            #expect(group.wait(timeout: .now() + 20) == .success, "writers did not stop after the kill")
        }
        // snapshots were taken between the kills (the debounce is 100 ms, the rounds longer)
        #expect(seen > 0)
    }
}
