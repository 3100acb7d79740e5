// The server's own epoll set. Every connection's socket is registered here, and libuv watches
// only the set's descriptor (one uv_poll_t on the server's loop, which may be a host's loop).
// A connection therefore costs no libuv handle: its slab entry and its descriptor are all.
// Level-triggered throughout: a socket that still has bytes (or room) after one wake-up is
// reported again on the next one, so a bounded batch per wake-up never loses an event.
import CUV

#if canImport(Glibc)
    import Glibc
#endif

struct SocketSet {
    /// Interest bits, as `Connection.watched` keeps them.
    static let readable: UInt8 = 1
    static let writable: UInt8 = 2

    /// Ready sockets handled per wake-up at most (libuv's own epoll batch is the same size);
    /// the rest wait for the next loop iteration, so timers and other handles are not starved.
    static let batch: Int32 = 1024

    /// What a ready socket reported.
    struct Ready {
        let id: ConnectionID?
        let flags: UInt32
        var isReadable: Bool { flags & noex_epoll_in != 0 }
        var isWritable: Bool { flags & noex_epoll_out != 0 }
        /// Error or hang-up: reported whatever the interest set holds.
        var isBroken: Bool { flags & noex_epoll_err_hup != 0 }
    }

    let fd: Int32
    let poll: UnsafeMutablePointer<uv_poll_t>
    let events: UnsafeMutableRawPointer

    /// Creates the set and starts watching it on `loop`; `onReady` runs when any socket in it is ready.
    static func open(loop: UnsafeMutablePointer<uv_loop_t>, onReady: uv_poll_cb) -> Result<SocketSet, UVError> {
        let fd = noex_epoll_create()
        guard fd >= 0 else { return .failure(UVError(-errno)) }
        guard let events = noex_epoll_events_alloc(batch) else {
            closeDescriptor(fd)
            return .failure(UVError(UV_ENOMEM.rawValue))
        }
        let poll = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
        var rc = uv_poll_init(loop, poll, fd)
        guard rc == 0 else {
            poll.deallocate()
            free(events)
            closeDescriptor(fd)
            return .failure(UVError(rc))
        }
        rc = uv_poll_start(poll, Int32(UV_READABLE.rawValue), onReady)
        let set = SocketSet(fd: fd, poll: poll, events: events)
        guard rc == 0 else {
            set.close()
            return .failure(UVError(rc))
        }
        return .success(set)
    }

    /// Registers a new socket for reading. Returns 0 or a negative errno.
    func add(_ socket: Int32, _ id: ConnectionID) -> Int32 {
        noex_epoll_ctl(fd, 0, socket, noex_epoll_in, UInt64(id.bitPattern)) == 0 ? 0 : -errno
    }

    /// Changes what a socket is watched for (`readable`/`writable` bits). Returns 0 or a negative errno.
    func watch(_ socket: Int32, _ id: ConnectionID, _ interest: UInt8) -> Int32 {
        let flags = (interest & Self.readable != 0 ? noex_epoll_in : 0) | (interest & Self.writable != 0 ? noex_epoll_out : 0)
        return noex_epoll_ctl(fd, 1, socket, flags, UInt64(id.bitPattern)) == 0 ? 0 : -errno
    }

    /// Unregisters a socket (before it is closed: the number may be reused at once).
    func remove(_ socket: Int32) {
        _ = noex_epoll_ctl(fd, 2, socket, 0, 0)
    }

    /// The ready sockets, without waiting (libuv already waited on the set); read them with `ready(_:)`.
    func wait() -> Int {
        while true {
            let n = noex_epoll_wait(fd, events, Self.batch)
            if n >= 0 { return Int(n) }
            if errno != EINTR { return 0 }
        }
    }

    func ready(_ i: Int) -> Ready {
        Ready(id: ConnectionID(bitPattern: UInt(noex_epoll_event_data(events, Int32(i)))),
              flags: noex_epoll_event_flags(events, Int32(i)))
    }

    /// Stops watching and closes the set (every socket must have been removed).
    func close() {
        uv_close(asHandle(poll), onHandleClosedFree)
        closeDescriptor(fd)
        free(events)
    }
}
