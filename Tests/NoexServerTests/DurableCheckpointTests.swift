import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// The sqlite engine checkpoints (copies the WAL into the main file) once the WAL holds more
/// than `checkpointPages` frames. SQLite writes the WAL again from its start after a
/// checkpoint without shrinking the file, so the trigger must be the frames in the WAL, not
/// the file's size: a size check checkpointed after every commit once the file had grown.
@Suite struct DurableCheckpointTests {
    @Test func checkpointsFollowTheFramesInTheWAL() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let privateLoop = PrivateLoop()
        defer { privateLoop.close() }
        let loop = privateLoop.loop
        let path = dir.file("noex.db")
        let config: JSONObject = ["key": "id", "schema": ["id": ["type": "string"], "text": ["type": "string"]]]
        let commits = 300, perCommit = 10, checkpointPages: Int32 = 32
        let text = String(repeating: "x", count: 300)
        do {
            let store = Store(nowMs: { 0 })  // the durable store holds it unowned
            let durable = try DurableStore(path: path, policy: .no, store: store, loop: loop)
            defer { durable.close() }
            durable.engine.checkpointPages = checkpointPages
            try store.defineBucket("items", config: config)
            try durable.bucketDefined("items", config: config)
            var largestWAL = 0
            for c in 0..<commits {
                for i in 0..<perCommit {
                    _ = try store.insert(bucket: "items", record: ["id": .string("\(c)-\(i)"), "text": .string(text)])
                }
                var failure: String?
                durable.commitPending { failure = $0?.message }
                #expect(failure == nil, "commit \(c) failed: \(failure ?? "")")
                largestWAL = max(largestWAL, (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0)
            }
            // A commit of ten 300-byte records writes at most a few frames (its leaves, their
            // parent, the header page): more than 32 frames take several commits.
            let checkpoints = durable.engine.checkpoints
            #expect(checkpoints >= 10, "the WAL was checkpointed \(checkpoints) times")
            #expect(checkpoints <= commits / 5, "the WAL was checkpointed \(checkpoints) times in \(commits) commits")
            // The WAL is reused: it never grows far past the threshold (a frame is 24 + 4096 bytes).
            #expect(largestWAL <= 32 + (Int(checkpointPages) + 16) * 4120, "the WAL grew to \(largestWAL) bytes")
        }
        // Everything committed is read back from the main file and the WAL.
        let store = Store(nowMs: { 0 })
        let reopened = try DurableStore(path: path, policy: .no, store: store, loop: loop)
        defer { reopened.close() }
        let records = try store.all(bucket: "items")
        #expect(records.count == commits * perCommit)
        #expect(records.last?["id"] == .string("\(commits - 1)-\(perCommit - 1)"))
    }
}
