// Small helpers over the libuv C API: pointer casts between handle types, errors, clocks.
import CUV

/// A libuv error code (negative `UV_E*`), as a Swift error for the few throwing setup calls.
public struct UVError: Error, Equatable, CustomStringConvertible {
    public let code: Int32
    public init(_ code: Int32) { self.code = code }
    /// libuv's symbolic name, e.g. `EADDRINUSE`.
    public var name: String { cString(uv_err_name(code)) }
    public var description: String { "\(name): \(cString(uv_strerror(code)))" }
}

@inline(__always) func asHandle<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: uv_handle_t.self)
}

/// Stores an id in a handle's `data` pointer (the id's bits, never an object).
@inline(__always) func setID<T>(_ handle: UnsafeMutablePointer<T>, _ id: ConnectionID?) {
    uv_handle_set_data(asHandle(handle), UnsafeMutableRawPointer(bitPattern: id?.bitPattern ?? 0))
}

/// The id stored by `setID`, or nil.
@inline(__always) func getID(_ handle: UnsafeMutablePointer<uv_handle_t>) -> ConnectionID? {
    ConnectionID(bitPattern: UInt(bitPattern: uv_handle_get_data(handle)))
}

/// Milliseconds since the Unix epoch (for `connectedAt` and application timestamps; timeouts
/// use the loop's monotonic `uv_now`).
public func wallClockMs() -> Int64 {
    var tv = uv_timeval64_t()
    _ = uv_gettimeofday(&tv)
    return tv.tv_sec * 1000 + Int64(tv.tv_usec / 1000)
}

/// Copies a NUL-terminated C string.
func cString(_ p: UnsafePointer<CChar>?) -> String {
    guard let p else { return "" }
    return String(validatingCString: p) ?? ""
}
