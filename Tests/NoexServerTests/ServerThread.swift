import Dispatch
import Foundation
import NoexStore
@testable import NoexServer

/// Runs a NoexServer on its own thread and loop for end-to-end tests. Everything loop-bound is
/// created on that thread; the test thread only learns the port and stops it via the
/// thread-safe stop handle.
final class ServerThread: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private(set) var port = 0
    private var stopHandle: StopHandleBox?
    private(set) var startError: String?

    /// `makeConfig` runs on the server thread; `onStart` too, right after listening (use it to
    /// schedule host actions such as a graceful stop with loop timers).
    init(makeConfig: @escaping @Sendable () -> ServerConfig,
         onStart: @escaping @Sendable (NoexServer) -> Void = { _ in }) {
        let thread = Thread { [self] in
            var config = makeConfig()
            config.host = "127.0.0.1"
            config.port = 0
            do {
                let server = try NoexServer.start(config)
                port = server.port
                stopHandle = StopHandleBox(handle: server.stopHandle)
                onStart(server)
                ready.signal()
                server.run()
            } catch {
                startError = "\(error)"
                ready.signal()
            }
            finished.signal()
        }
        thread.start()
        ready.wait()
    }

    /// Stops the server (no grace period) and waits for its loop to end (bounded).
    func stop() {
        stopHandle?.handle?.stop()
        _ = finished.wait(timeout: .now() + 5)
    }

    /// Waits for the loop to end by itself (after a scheduled stop).
    func waitUntilStopped(seconds: Double = 5) -> Bool {
        finished.wait(timeout: .now() + seconds) == .success
    }
}

struct StopHandleBox: @unchecked Sendable { let handle: StopHandle? }

import NoexLoop

/// The demo schema store, as the binary starts it (the original server's recorded buckets and queries).
func demoStore() -> Store {
    let store = Store(name: "reference-store", nowMs: ServerClock.systemWallMs)
    for (name, def) in DemoSchema.buckets { try! store.defineBucket(name, config: def) }
    for (name, def) in DemoSchema.queries { try! store.defineQuery(name, config: def) }
    return store
}
