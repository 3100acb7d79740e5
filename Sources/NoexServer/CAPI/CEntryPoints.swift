import NoexJSON
import NoexLoop

// The C entry points (`noex_server_*`, see noex_server.h in Tests/NoexServerTests/CAPI). They run
// exactly the binary's path: config JSON (the config-file keys of docs/config.md, or NULL for
// the demo schema) → LaunchPlan → NoexServer on its own loop. Results are 0 or a negative error;
// no Swift error crosses the boundary.

/// What a C handle points to: the server and the thread-safe stop handle.
final class CServerHandle {
    let server: NoexServer
    let stopHandle: StopHandle?
    init(server: NoexServer) {
        self.server = server
        stopHandle = server.stopHandle
    }
}

/// -22 (EINVAL): the config was rejected; -98 and friends: libuv's listen errors.
private let invalidConfig: Int32 = -22

private func writeError(_ message: String, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) {
    guard let buffer, length > 0 else { return }
    let bytes = Array(message.utf8.prefix(length - 1))
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    buffer[bytes.count] = 0
}

/// Builds and starts a server (it listens when this returns 0). `configJSON` may be NULL for
/// the demo configuration. On failure writes a message into `errorBuffer` (if given) and
/// returns a negative code; `*handle` is set only on success.
@_cdecl("noex_server_start")
public func noex_server_start(_ configJSON: UnsafePointer<CChar>?, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
                              _ errorBuffer: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    guard let handle else {
        writeError("handle pointer is NULL", errorBuffer, errorLength)
        return invalidConfig
    }
    var file: FileConfig?
    if let configJSON {
        do {
            file = try FileConfig.decode(try JSON.parse(String(cString: configJSON)))
        } catch let e as JSONParseError {
            writeError("invalid config JSON: \(e.message)", errorBuffer, errorLength)
            return invalidConfig
        } catch {
            writeError("\(error)", errorBuffer, errorLength)
            return invalidConfig
        }
    }
    let plan: LaunchPlan
    do {
        plan = try LaunchPlan.resolve(CommandLineOptions(), file: file)
    } catch {
        writeError(error.message, errorBuffer, errorLength)
        return invalidConfig
    }
    let config: ServerConfig
    do {
        config = try plan.prepare()
    } catch {
        writeError(error.message, errorBuffer, errorLength)
        return invalidConfig
    }
    do {
        let server = try NoexServer.start(config)
        handle.pointee = OpaquePointer(Unmanaged.passRetained(CServerHandle(server: server)).toOpaque())
        return 0
    } catch {
        writeError(error.message, errorBuffer, errorLength)
        return error.code < 0 ? error.code : -1
    }
}

private func box(_ handle: OpaquePointer?) -> CServerHandle? {
    guard let handle else { return nil }
    return Unmanaged<CServerHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The bound port, or a negative code for a NULL handle.
@_cdecl("noex_server_port")
public func noex_server_port(_ handle: OpaquePointer?) -> Int32 {
    guard let b = box(handle) else { return invalidConfig }
    return Int32(b.server.port)
}

/// Runs the server's loop on the calling thread until it has stopped. Call it on one thread
/// only; every other call except `noex_server_stop` must come from that thread (or before it).
@_cdecl("noex_server_run")
public func noex_server_run(_ handle: OpaquePointer?) -> Int32 {
    guard let b = box(handle) else { return invalidConfig }
    b.server.run()
    return 0
}

/// Stops the server (close 1000 `server_shutdown`, no grace period). Thread-safe; idempotent.
@_cdecl("noex_server_stop")
public func noex_server_stop(_ handle: OpaquePointer?) {
    box(handle)?.stopHandle?.stop()
}

/// Releases the handle after `noex_server_run` returned (or when it was never run).
@_cdecl("noex_server_free")
public func noex_server_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let unmanaged = Unmanaged<CServerHandle>.fromOpaque(UnsafeRawPointer(handle))
    let server = unmanaged.takeUnretainedValue().server
    if !server.transport.isStopping {  // never run: stop, then let the loop close its handles
        server.stop()
        server.run()
    }
    unmanaged.release()
}
