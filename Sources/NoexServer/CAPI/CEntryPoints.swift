import CUV
import NoexJSON
import NoexLoop

// The C entry points (`noex_server_*`, see include/noex_server.h and docs/embedding.md). They
// run exactly the binary's path: config JSON (the config-file keys of docs/config.md, or NULL
// for the demo schema) → LaunchPlan → NoexServer, on a private loop or on the host's. Results
// are 0 or a negative errno-style code; no Swift error crosses the boundary.

/// -22 (EINVAL): a NULL or wrong argument, or a rejected config; -98 and friends: libuv's
/// listen errors.
private let invalidArgument: Int32 = -22
/// -16 (EBUSY): the loop's data pointer is taken, or clients are already connected.
private let busy: Int32 = -16

private func writeError(_ message: String, _ buffer: UnsafeMutablePointer<CChar>?, _ length: Int) {
    guard let buffer, length > 0 else { return }
    let bytes = Array(message.utf8.prefix(length - 1))
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    buffer[bytes.count] = 0
}

/// The common start path: config JSON → plan → server on `loop` (nil = a private loop).
private func startServer(_ configJSON: UnsafePointer<CChar>?, loop: UnsafeMutablePointer<uv_loop_t>?,
                         _ handle: UnsafeMutablePointer<OpaquePointer?>?,
                         _ errorBuffer: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    guard let handle else {
        writeError("handle pointer is NULL: pass the address of a noex_server * variable", errorBuffer, errorLength)
        return invalidArgument
    }
    var file: FileConfig?
    if let configJSON {
        do {
            file = try FileConfig.decode(try JSON.parse(String(cString: configJSON)))
        } catch let e as JSONParseError {
            writeError("invalid config JSON: \(e.message)", errorBuffer, errorLength)
            return invalidArgument
        } catch {
            writeError("\(error)", errorBuffer, errorLength)
            return invalidArgument
        }
    }
    let config: ServerConfig
    do {
        config = try LaunchPlan.resolve(CommandLineOptions(), file: file).prepare()
    } catch {
        writeError(error.message, errorBuffer, errorLength)
        return invalidArgument
    }
    do {
        let server = try NoexServer.start(config, loop: loop)
        let box = CServerHandle(server: server, onHostLoop: loop != nil)
        handle.pointee = OpaquePointer(Unmanaged.passRetained(box).toOpaque())
        return 0
    } catch {
        // The transport had claimed loop->data; a failed start leaves the host's loop as it was.
        if let loop { uv_loop_set_data(loop, nil) }
        writeError(error.message, errorBuffer, errorLength)
        return error.code < 0 ? error.code : -1
    }
}

private func box(_ handle: OpaquePointer?) -> CServerHandle? {
    guard let handle else { return nil }
    return Unmanaged<CServerHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Builds and starts a server on a private loop (it listens when this returns 0; call
/// `noex_server_run` to serve). `configJSON` may be NULL for the demo configuration. On failure
/// writes a message into `errorBuffer` (if given) and returns a negative code; `*handle` is set
/// only on success.
@_cdecl("noex_server_start")
public func noex_server_start(_ configJSON: UnsafePointer<CChar>?, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
                              _ errorBuffer: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    startServer(configJSON, loop: nil, handle, errorBuffer, errorLength)
}

/// Builds and starts a server on the host's libuv loop, which the host runs. The server keeps
/// its pointer in `loop->data` until it is freed, so that must be NULL (-16 otherwise).
@_cdecl("noex_server_start_on_loop")
public func noex_server_start_on_loop(_ loop: UnsafeMutablePointer<uv_loop_t>?, _ configJSON: UnsafePointer<CChar>?,
                                      _ handle: UnsafeMutablePointer<OpaquePointer?>?,
                                      _ errorBuffer: UnsafeMutablePointer<CChar>?, _ errorLength: Int) -> Int32 {
    guard let loop else {
        writeError("loop is NULL: pass an initialised uv_loop_t (or use noex_server_start for a private loop)", errorBuffer, errorLength)
        return invalidArgument
    }
    guard uv_loop_get_data(loop) == nil else {
        writeError("loop->data is in use: the server keeps its pointer there while it lives; keep your own state elsewhere and set loop->data to NULL",
                   errorBuffer, errorLength)
        return busy
    }
    return startServer(configJSON, loop: loop, handle, errorBuffer, errorLength)
}

/// Installs (or with a NULL `function` removes) the C validate callback that decides what an
/// `auth.login` token means. Call it on the loop's thread before any client connects (right
/// after start); -16 when connections are already open.
@_cdecl("noex_server_set_validate")
public func noex_server_set_validate(_ handle: OpaquePointer?, _ function: CValidateFunction?,
                                     _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let b = box(handle) else { return invalidArgument }
    guard b.server.transport.connectionCount == 0 else { return busy }
    // Built-in identity decides tokens itself; a validate callback would bypass its checks.
    guard b.server.core.identity == nil else { return invalidArgument }
    let auth = function.map { CValidateCallback(function: $0, context: context).authConfig(replacing: b.configuredAuth) }
    b.server.core.installAuth(auth ?? b.configuredAuth)
    return 0
}

/// The bound port, or a negative code for a NULL handle.
@_cdecl("noex_server_port")
public func noex_server_port(_ handle: OpaquePointer?) -> Int32 {
    guard let b = box(handle) else { return invalidArgument }
    return Int32(b.server.port)
}

/// Runs the server's private loop on the calling thread until it has stopped. Call it on one
/// thread only; every other call except `noex_server_stop` must come from that thread (or
/// before it). -22 for a server on a host's loop (the host runs that loop).
@_cdecl("noex_server_run")
public func noex_server_run(_ handle: OpaquePointer?) -> Int32 {
    guard let b = box(handle), !b.onHostLoop else { return invalidArgument }
    b.server.run()
    return 0
}

/// Stops the server (close 1000 `server_shutdown`, no grace period). Thread-safe; idempotent.
@_cdecl("noex_server_stop")
public func noex_server_stop(_ handle: OpaquePointer?) {
    box(handle)?.stopHandle?.stop()
}

/// Releases the handle. Private loop: after `noex_server_run` returned (or when it was never
/// run: stops and closes everything first). Host loop: on the loop's thread, at any time; stops
/// the server if needed, and the handle is released once the host's loop has run the server's
/// handles to their close.
@_cdecl("noex_server_free")
public func noex_server_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    let unmanaged = Unmanaged<CServerHandle>.fromOpaque(UnsafeRawPointer(handle))
    let b = unmanaged.takeUnretainedValue()
    if b.onHostLoop {
        b.server.stop()
        releaseWhenClosed(unmanaged)
        return
    }
    if !b.server.transport.isStopping {  // never run: stop, then let the loop close its handles
        b.server.stop()
        b.server.run()
    }
    unmanaged.release()
}
