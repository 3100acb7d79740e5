import Foundation
import NoexJSON
import Testing
@testable import NoexServer

/// `--persistence file`: a data directory that cannot be used stops the start with an error
/// naming the file; a snapshot that cannot be written (disk full) is counted, retried, and
/// never damages the snapshot already on disk.
@Suite(.serialized) struct FileEngineFaultTests {
    private func fileServer(_ dir: String) -> ServerThread { durableServer(dir, engine: .file) }

    /// Writes one record and stops gracefully: the directory then holds a complete snapshot.
    private func seed(_ dataDir: String) throws {
        let server = fileServer(dataDir)
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": "a", "name": "A"]])["type"] == "result")
        server.stop()
    }

    private func bucketFile(_ dataDir: String, _ bucket: String) throws -> String {
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: dataDir).first { $0.hasPrefix("bucket-\(bucket).") })
        return dataDir + "/" + name
    }

    @Test func corruptSchemaFile() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        try seed(data)
        try Data("{\"formatVersion\":1,".utf8).write(to: URL(fileURLWithPath: data + "/schema.json"))
        let server = fileServer(data)
        defer { server.stop() }
        let error = try #require(server.startError)
        #expect(error.hasPrefix("\"\(data)/schema.json\" is not a valid snapshot file"), "\(error)")
    }

    @Test func corruptBucketFile() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        try seed(data)
        let items = try bucketFile(data, "items")
        try Data("[1,2".utf8).write(to: URL(fileURLWithPath: items))
        let server = fileServer(data)
        defer { server.stop() }
        let error = try #require(server.startError)
        #expect(error.hasPrefix("\"\(items)\" is not a valid snapshot file"), "\(error)")
    }

    @Test func newerFormatVersion() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        try seed(data)
        let path = data + "/schema.json"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"formatVersion\":1", with: "\"formatVersion\":9")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let server = fileServer(data)
        defer { server.stop() }
        #expect(server.startError == "\"\(path)\" has format version 9, newer than this server's 1: use a newer noex-server")
    }

    @Test func uncreatableDirectory() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("no/such/data")
        let server = fileServer(data)
        defer { server.stop() }
        #expect(server.startError == "cannot create data directory \"\(data)\": No such file or directory")
    }

    @Test func unwritableDirectory() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let locked = try mountedTmpfs(in: dir, "locked", options: "ro,size=64k")
        defer { unmount(locked) }
        let server = fileServer(locked)
        defer { server.stop() }
        #expect(server.startError == "data directory \"\(locked)\" is not writable: Read-only file system")
    }

    @Test func diskFullKeepsTheOldSnapshot() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let disk = try mountedTmpfs(in: dir, "disk", options: "size=256k")
        defer { unmount(disk) }
        try seed(disk)
        let filler = String(repeating: "x", count: 2000)
        do {
            let server = fileServer(disk)
            try #require(server.startError == nil)
            let c = try WireStoreClient(server)
            // 300 × 2 KB does not fit in 256 KB: the snapshot of `items` cannot be written.
            // Replies are not held on this engine, so every insert is answered.
            for i in 0..<300 {
                #expect(c.ask(["type": "store.insert", "bucket": "items", "data": ["sku": .string("k\(i)"), "name": .string(filler)]])["type"] == "result")
            }
            var failures: Int64 = 0
            for _ in 0..<100 where failures == 0 {
                let p = c.data(["type": "store.stats"])["persistence"]
                #expect(p?["engine"] == "file")
                failures = p?["commitFailures"]?.intValue ?? 0
                if failures == 0 { usleep(20_000) }
            }
            #expect(failures >= 1, "the snapshot never failed")
            #expect((c.data(["type": "store.stats"])["persistence"]?["pendingWrites"]?.intValue ?? 0) >= 1, "the failed bucket stays dirty")
            server.stop()
        }
        // no temp file is left behind, and the last good snapshot loads: the seed plus the
        // inserts up to some moment (snapshots taken while the bucket was small succeeded),
        // never all 300 (those do not fit)
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk).filter { $0.hasSuffix(".tmp") } == [])
        let server = fileServer(disk)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        let skus = c.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } ?? []
        let saved = skus.count - 1
        #expect(saved >= 0 && saved < 300 && skus == ["a"] + (0..<saved).map { "k\($0)" }, "\(skus)")
    }

    /// What an interrupted flush leaves (a temp file, a bucket file schema.json does not name)
    /// is removed at start, and the committed snapshot loads.
    @Test func leftoversOfAnInterruptedFlushAreIgnoredAndRemoved() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        try seed(data)
        try Data("{\"state\":".utf8).write(to: URL(fileURLWithPath: data + "/.schema.json.tmp"))
        try Data("{\"state\":{\"records\":[]}}".utf8).write(to: URL(fileURLWithPath: data + "/bucket-items.99.json"))
        let server = fileServer(data)
        defer { server.stop() }
        try #require(server.startError == nil, "\(server.startError ?? "")")
        let c = try WireStoreClient(server)
        #expect(c.data(["type": "store.all", "bucket": "items"]).arrayValue?.compactMap { $0["sku"]?.stringValue } == ["a"])
        let left = try FileManager.default.contentsOfDirectory(atPath: data)
        #expect(!left.contains(".schema.json.tmp") && !left.contains("bucket-items.99.json"), "\(left)")
    }

    @Test func missingBucketFile() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let data = dir.file("data")
        try seed(data)
        let items = try bucketFile(data, "items")
        try FileManager.default.removeItem(atPath: items)
        let server = fileServer(data)
        defer { server.stop() }
        #expect(server.startError == "\"\(items)\" is missing (named by \"\(data)/schema.json\"): restore the data directory from a backup")
    }
}
