import CUV
import Foundation
import NoexJSON
import NoexStore
import Testing
@testable import NoexServer

/// A fresh directory for one test's database files, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "noex-durable-XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A libuv loop of its own for a test that drives a durable store in-process (the store's
/// timers need one; the test never runs it), released by `close()`.
struct PrivateLoop {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)

    init() { #expect(uv_loop_init(loop) == 0) }

    func close() {
        _ = uv_loop_close(loop)
        loop.deallocate()
    }
}

/// A server thread on the wire-test fixture (or the store `store` makes), durable in `db` (the
/// data directory for the `file` engine) with `fsync`.
func durableServer(_ db: String, fsync: FsyncPolicyName = .everysec, engine: PersistenceOptions.Engine = .sqlite,
                   store: @escaping @Sendable () -> Store = wireStoreFixture) -> ServerThread {
    ServerThread {
        var c = ServerConfig(store: store())
        c.persistence = PersistenceOptions(path: db, fsync: fsync.policy, engine: engine)
        return c
    }
}

/// Starts a durable server on `db`, checks that it started, connects a client, runs `body`
/// with it and stops the server (also when `body` throws), so the database's lock is free
/// afterwards: the "start, connect, …, stop, start again" steps of restart tests.
@discardableResult
func withDurableServer<T>(_ db: String, fsync: FsyncPolicyName = .everysec, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: (WireStoreClient) throws -> T) throws -> T {
    let server = durableServer(db, fsync: fsync)
    defer { server.stop() }
    try #require(server.startError == nil, "\(server.startError ?? "")", sourceLocation: sourceLocation)
    return try body(try WireStoreClient(server, sourceLocation: sourceLocation))
}

/// The fsync policies by name, so tests need not import NoexPersistence.
enum FsyncPolicyName: String, CaseIterable {
    case always, everysec, no
    var policy: PersistenceOptions.Policy { PersistenceOptions.Policy(rawValue: rawValue)! }
}

/// The debug `noex-server` binary next to the test bundle (built by `swift build --build-tests`).
func locateServerBinary() -> URL? {
    var candidate = URL(fileURLWithPath: CommandLine.arguments[0])
    for _ in 0..<4 {
        candidate.deleteLastPathComponent()
        let b = candidate.appendingPathComponent("noex-server")
        if FileManager.default.isExecutableFile(atPath: b.path) { return b }
    }
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/noex-server")
    return FileManager.default.isExecutableFile(atPath: cwd.path) ? cwd : nil
}

/// Mounts a tmpfs (root only; false when mounting is not possible here). `ro` in `options`
/// becomes the read-only flag; the rest (e.g. `size=256k`) goes to tmpfs.
func mountTmpfs(at path: String, options: String) -> Bool {
    let parts = options.split(separator: ",")
    let flags: UInt = parts.contains("ro") ? UInt(MS_RDONLY) : 0
    let data = parts.filter { $0 != "ro" }.joined(separator: ",")
    return mount("tmpfs", path, "tmpfs", flags, data) == 0
}

func unmount(_ path: String) { _ = umount2(path, Int32(MNT_DETACH)) }

/// A fresh directory `name` in `dir` with a tmpfs mounted on it (a test that calls this fails,
/// not skips, where it cannot mount); the caller unmounts it with `unmount`.
func mountedTmpfs(in dir: ScratchDirectory, _ name: String, options: String) throws -> String {
    try #require(getuid() == 0, "needs root to mount a tmpfs")
    let path = dir.file(name)
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    try #require(mountTmpfs(at: path, options: options), "mount -t tmpfs is not possible here")
    return path
}
