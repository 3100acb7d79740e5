import Foundation
import NoexJSON
import Testing
@testable import NoexPersistence
@testable import NoexServer

/// A database that cannot be used stops the start with an error naming the file; nothing
/// starts empty by accident.
@Suite struct DurableStartErrorTests {
    @Test func unwritableDirectory() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let locked = dir.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        // Permission bits do not stop root: a read-only mount does.
        let mounted = getuid() == 0 && mountTmpfs(at: locked, options: "ro,size=64k")
        defer { if mounted { unmount(locked) } }
        if !mounted { chmod(locked, 0o500) }
        defer { chmod(locked, 0o700) }
        try #require(mounted || getuid() != 0, "as root this test needs mount -t tmpfs")
        let db = locked + "/noex.db"
        let server = durableServer(db)
        defer { server.stop() }
        #expect(server.startError == "cannot open database \"\(db)\": unable to open database file")
    }

    @Test func missingDirectory() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("no/such/dir/noex.db")
        let server = durableServer(db)
        defer { server.stop() }
        let error = try #require(server.startError)
        #expect(error == "cannot open database \"\(db)\": unable to open database file")
    }

    @Test func secondServerOnTheSameDatabase() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        let first = durableServer(db)
        defer { first.stop() }
        try #require(first.startError == nil)
        let second = durableServer(db)
        defer { second.stop() }
        #expect(second.startError == "PRAGMA journal_mode=WAL failed on \"\(db)\": database is locked (is another noex-server using it?)")
    }

    /// A start that fails to listen closes the engine it opened: the database is not left locked
    /// and no engine timer keeps the loop (and so `start`) from returning.
    @Test(arguments: [PersistenceOptions.Engine.sqlite, .file])
    func failedListenReleasesTheEngine(engine: PersistenceOptions.Engine) throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file(engine == .sqlite ? "noex.db" : "data")
        let occupant = ServerThread { ServerConfig(store: wireStoreFixture()) }
        defer { occupant.stop() }
        final class Outcome: @unchecked Sendable { var error: String? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let port = occupant.port
        Thread {
            var c = ServerConfig(store: wireStoreFixture())
            c.host = "127.0.0.1"
            c.port = port
            c.persistence = PersistenceOptions(path: db, fsync: .everysec, engine: engine)
            do { _ = try NoexServer.start(c) } catch { outcome.error = "\(error)" }
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + 10) == .success, "start did not return after a failed listen")
        #expect(outcome.error?.contains("EADDRINUSE") == true, "\(outcome.error ?? "started")")
        let again = durableServer(db, engine: engine)
        defer { again.stop() }
        #expect(again.startError == nil)
    }

    @Test func corruptFile() throws {
        let dir = ScratchDirectory()
        defer { dir.remove() }
        let db = dir.file("noex.db")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: db))
        let server = durableServer(db)
        defer { server.stop() }
        let error = try #require(server.startError)
        #expect(error.contains("\"\(db)\"") && error.contains("file is not a database"), "\(error)")
    }
    // A newer format version: DurableFormatTests.newerFormatVersionIsRefused.
}
