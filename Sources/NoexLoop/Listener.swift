// The listening socket. We accept by hand (a uv_poll_t on the socket, accept4 when it is
// readable) because libuv's own accept loop hides EMFILE/ENFILE: it drops the waiting
// connections with a reserve descriptor and never tells the application. Here every failure
// reaches the server, which counts and reports it and pauses accepting for a moment, so the
// waiting clients stay in the kernel's backlog until descriptors are free again.
import CUV

#if canImport(Glibc)
    import Glibc
#endif

/// A bound, listening, non-blocking TCP socket and the poll handle that watches it.
struct Listener {
    let fd: Int32
    let poll: UnsafeMutablePointer<uv_poll_t>

    /// What one `accept` did.
    enum Accepted {
        /// A new connection (a close-on-exec descriptor the caller now owns).
        case connection(Int32)
        /// Nothing is waiting.
        case none
        /// Interrupted or aborted by the peer before it was accepted: try again.
        case retry
        /// A failure (a negative errno, as libuv reports errors): EMFILE, ENFILE, ENOBUFS, ...
        case failed(Int32)
    }

    /// Creates the socket, binds it to `host:port` (SO_REUSEADDR, as libuv does), listens
    /// and starts watching it; `onReadable` runs when connections wait. `host` is an IPv4 or
    /// IPv6 literal or a host name (bound to the address it resolves to). Returns a libuv error
    /// code on failure, with nothing left open.
    static func open(loop: UnsafeMutablePointer<uv_loop_t>, host: String, port: Int, backlog: Int32,
                     onReadable: uv_poll_cb) -> Result<Listener, UVError> {
        var storage: sockaddr_storage
        switch address(loop: loop, host: host, port: port) {
        case .success(let a): storage = a
        case .failure(let error): return .failure(error)
        }
        let family = Int32(storage.ss_family)
        let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let fd = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(UVError(-errno)) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            Glibc.bind(fd, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), length)
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let code = -errno
            _ = Glibc.close(fd)
            return .failure(UVError(code))
        }
        let poll = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
        var rc = uv_poll_init_socket(loop, poll, fd)
        guard rc == 0 else {
            poll.deallocate()
            _ = Glibc.close(fd)
            return .failure(UVError(rc))
        }
        rc = uv_poll_start(poll, Int32(UV_READABLE.rawValue), onReadable)
        let listener = Listener(fd: fd, poll: poll)
        guard rc == 0 else {
            listener.close()
            return .failure(UVError(rc))
        }
        return .success(listener)
    }

    /// The socket address for `host:port`: an IPv6 literal (it has a colon), an IPv4 literal,
    /// or else a host name.
    private static func address(loop: UnsafeMutablePointer<uv_loop_t>, host: String, port: Int) -> Result<sockaddr_storage, UVError> {
        // uv_ip*_addr would silently truncate an out-of-range port.
        guard (0...65535).contains(port) else { return .failure(UVError(UV_EINVAL.rawValue)) }
        var storage = sockaddr_storage()
        if host.contains(":") {
            var a = sockaddr_in6()
            let rc = uv_ip6_addr(host, Int32(port), &a)
            guard rc == 0 else { return .failure(UVError(rc)) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in6.self) }
            return .success(storage)
        }
        var a = sockaddr_in()
        guard uv_ip4_addr(host, Int32(port), &a) == 0 else { return resolve(loop: loop, host: host, port: port) }
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in.self) }
        return .success(storage)
    }

    /// Resolves a host name (`localhost`, a name in /etc/hosts or DNS) to its first address,
    /// an IPv4 one when the name has one (the default host 0.0.0.0 is IPv4, and clients try
    /// every address of a name anyway). `uv_getaddrinfo` without a callback resolves
    /// synchronously: this runs once, before the loop serves anyone, so blocking here stalls no
    /// client. Fails with a `UV_EAI_*` code when the name does not resolve.
    private static func resolve(loop: UnsafeMutablePointer<uv_loop_t>, host: String, port: Int) -> Result<sockaddr_storage, UVError> {
        var rc: Int32 = UV_EAI_NONAME.rawValue
        for family in [AF_INET, AF_UNSPEC] {
            var hints = addrinfo()
            hints.ai_family = family
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var req = uv_getaddrinfo_t()
            rc = uv_getaddrinfo(loop, &req, nil, host, String(port), &hints)
            // A resolver that is down fails both ways: do not wait for it twice.
            if rc == UV_EAI_AGAIN.rawValue || rc == UV_EAI_FAIL.rawValue { return .failure(UVError(rc)) }
            guard rc == 0 else { continue }
            defer { uv_freeaddrinfo(req.addrinfo) }
            guard let first = req.addrinfo, let address = first.pointee.ai_addr,
                first.pointee.ai_family == AF_INET || first.pointee.ai_family == AF_INET6
            else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen)))
            }
            return .success(storage)
        }
        return .failure(UVError(rc))
    }

    /// The bound port (the real one when 0 was asked for); 0 if the socket cannot tell.
    var port: Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            getsockname(fd, UnsafeMutableRawPointer($0).assumingMemoryBound(to: sockaddr.self), &len)
        }
        guard rc == 0 else { return 0 }
        return withUnsafeBytes(of: &storage) { raw in
            // sin_port and sin6_port sit at the same offset, in network byte order.
            Int(UInt16(bigEndian: raw.load(fromByteOffset: MemoryLayout<sa_family_t>.size, as: UInt16.self)))
        }
    }

    /// Accepts one waiting connection.
    func accept() -> Accepted {
        // Non-blocking and close-on-exec in the same call (the server reads and writes it itself).
        let conn = noex_accept_nonblocking(fd)
        if conn >= 0 { return .connection(conn) }
        switch errno {
        case EAGAIN, EWOULDBLOCK: return .none
        case EINTR, ECONNABORTED: return .retry
        default: return .failed(-errno)
        }
    }

    /// Stops or restarts watching for connections (a pause after an accept failure).
    func watch(_ on: Bool, onReadable: uv_poll_cb) {
        if on {
            uv_poll_start(poll, Int32(UV_READABLE.rawValue), onReadable)
        } else {
            uv_poll_stop(poll)
        }
    }

    /// Closes the poll handle (its close callback frees it) and then the socket.
    func close() {
        uv_close(asHandle(poll), onHandleClosedFree)
        _ = Glibc.close(fd)
    }
}

/// Closes a descriptor the server owns itself (a connection's socket, the epoll set, an accepted
/// connection that could not be adopted).
func closeDescriptor(_ fd: Int32) {
    _ = Glibc.close(fd)
}

/// Makes a write to a socket the peer has reset fail with EPIPE instead of killing the process:
/// the server's own sockets send with MSG_NOSIGNAL, but other writers in the process (hiredis's
/// Redis connection, a host application's libuv streams) use write(2), which raises SIGPIPE.
/// Process-wide, as in every libuv server (Node does the same); called when a server starts.
func ignoreBrokenPipes() {
    _ = signal(SIGPIPE, SIG_IGN)
}
