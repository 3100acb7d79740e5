// fanout-floor: the least server CPU a push fan-out can cost on this machine. One libuv loop
// writes one prepared WebSocket frame to every one of M loopback connections per round, with
// `uv_try_write` straight from one shared buffer (no copy, no request, no queue): what is left is
// the kernel's send path, one syscall per subscriber. bench/fanout.sh prints its figure next to
// noex-server's `fanout.server_cpu_us_per_push` from the same run.
//
//   fanout-floor --role server  --port P [--connections M] [--size B] [--seconds S] [--rounds R]
//   fanout-floor --role clients --port P [--connections M] [--seconds S]
//
// The two roles are separate processes so that each can be pinned to its own core and the
// server's CPU time (getrusage of its own process) holds only the sending side. The clients
// read and discard everything until the server closes their sockets.
import CUV

#if canImport(Glibc)
import Glibc
#endif

/// One line on standard error (fd 2, unbuffered).
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

struct Options {
    var role = "server"
    var port = 0
    var connections = 1000
    var size = 200
    var seconds = 5
    var rounds = 5000
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())[...]
    func fail(_ message: String) -> Never {
        say("fanout-floor: \(message)")
        exit(2)
    }
    while let flag = args.popFirst() {
        guard let value = args.popFirst() else { fail("\(flag) needs a value") }
        switch flag {
        case "--role": o.role = value
        case "--port": o.port = Int(value) ?? -1
        case "--connections": o.connections = Int(value) ?? 0
        case "--size": o.size = Int(value) ?? 0
        case "--seconds": o.seconds = Int(value) ?? 0
        case "--rounds": o.rounds = Int(value) ?? 0
        default: fail("unknown flag \(flag)")
        }
    }
    guard o.role == "server" || o.role == "clients" else { fail("--role is server or clients") }
    guard (1...65535).contains(o.port) else { fail("--port 1...65535 is required") }
    guard (1...100_000).contains(o.connections) else { fail("--connections 1...100000") }
    guard (1...65535).contains(o.size) else { fail("--size 1...65535 (payload bytes)") }
    guard (1...600).contains(o.seconds) else { fail("--seconds 1...600") }
    guard o.rounds > 0 else { fail("--rounds must be positive") }
    return o
}

nonisolated(unsafe) let options = parseOptions()
nonisolated(unsafe) let loop = uv_default_loop()!
signal(SIGPIPE, SIG_IGN)

func cpuNanoseconds() -> UInt64 {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func ns(_ t: timeval) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

func asStream<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: uv_stream_t.self)
}

func asHandle<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: uv_handle_t.self)
}

func check(_ rc: Int32, _ what: String) {
    guard rc != 0 else { return }
    say("fanout-floor: \(what): \(String(cString: uv_strerror(rc)))")
    exit(1)
}

func freeHandle(_ h: UnsafeMutablePointer<uv_handle_t>?) { UnsafeMutableRawPointer(h!).deallocate() }

// MARK: - Server role

/// The accepted sockets, in accept order.
nonisolated(unsafe) var sockets: [UnsafeMutablePointer<uv_tcp_t>] = []
/// One unmasked text frame of `size` payload bytes, the same for every subscriber.
nonisolated(unsafe) let frame: [UInt8] = {
    let n = options.size
    var f: [UInt8] = [0x81]
    if n < 126 { f.append(UInt8(n)) } else { f += [126, UInt8(n >> 8), UInt8(n & 0xFF)] }
    return f + [UInt8](repeating: UInt8(ascii: "x"), count: n)
}()
nonisolated(unsafe) let framePointer: UnsafeMutableRawPointer = {
    let p = UnsafeMutableRawPointer.allocate(byteCount: frame.count, alignment: 16)
    frame.withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: frame.count) }
    return p
}()
nonisolated(unsafe) var sends = 0
nonisolated(unsafe) var blocked = 0
nonisolated(unsafe) var roundsDone = 0
nonisolated(unsafe) var startCPU: UInt64 = 0
nonisolated(unsafe) var startNs: UInt64 = 0
nonisolated(unsafe) let listener = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
nonisolated(unsafe) let roundTimer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)

/// One round: the frame to every socket. A socket whose kernel buffer is full is skipped and
/// counted (`blocked`); the clients read as fast as they can, so a sound run has none.
func round() {
    var buf = uv_buf_init(framePointer.assumingMemoryBound(to: CChar.self), UInt32(frame.count))
    for s in sockets {
        let n = uv_try_write(asStream(s), &buf, 1)
        if Int(n) == frame.count { sends += 1 } else { blocked += 1 }
    }
    roundsDone += 1
    let elapsed = uv_hrtime() - startNs
    if roundsDone >= options.rounds || elapsed >= UInt64(options.seconds) * 1_000_000_000 { finish(elapsed) }
}

func finish(_ elapsed: UInt64) {
    let cpu = cpuNanoseconds() - startCPU
    uv_timer_stop(roundTimer)
    func us(_ ns: UInt64, _ count: Int) -> String {
        guard count > 0 else { return "0" }
        let thousandths = ns / UInt64(count)
        let f = String(thousandths % 1000)
        return "\(thousandths / 1000).\(String(repeating: "0", count: 3 - f.count))\(f)"
    }
    print("fanout.floor_connections: \(sockets.count)")
    print("fanout.floor_frame_bytes: \(frame.count)")
    print("fanout.floor_rounds: \(roundsDone)")
    print("fanout.floor_sends: \(sends)")
    print("fanout.floor_blocked: \(blocked)")
    print("fanout.floor_sends_per_s: \(elapsed == 0 ? 0 : Int(Double(sends) * 1e9 / Double(elapsed)))")
    print("fanout.floor_cpu_us_per_send: \(us(cpu, sends))")
    fflush(nil)
    for s in sockets { uv_close(asHandle(s), freeHandle) }
    uv_close(asHandle(roundTimer), nil)
}

func serve() {
    check(uv_tcp_init(loop, listener), "tcp init")
    var addr = sockaddr_in()
    check(uv_ip4_addr("127.0.0.1", Int32(options.port), &addr), "address")
    check(withUnsafePointer(to: &addr) {
        uv_tcp_bind(listener, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self), 0)
    }, "bind")
    check(uv_listen(asStream(listener), 4096) { server, status in
        guard status == 0 else { return }
        let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(loop, tcp)
        guard uv_accept(server, asStream(tcp)) == 0 else {
            uv_close(asHandle(tcp), freeHandle)
            return
        }
        uv_tcp_nodelay(tcp, 1)
        sockets.append(tcp)
        guard sockets.count == options.connections else { return }
        // Everyone is connected: stop accepting and start the rounds, back to back (the
        // timer fires again as soon as the loop has polled once).
        uv_close(asHandle(listener), nil)
        startCPU = cpuNanoseconds()
        startNs = uv_hrtime()
        uv_timer_start(roundTimer, { _ in round() }, 0, 1)
    }, "listen")
    check(uv_timer_init(loop, roundTimer), "timer")
    say("fanout-floor: listening on 127.0.0.1:\(options.port)")
    uv_run(loop, UV_RUN_DEFAULT)
}

// MARK: - Clients role

/// Where every client read lands (the bytes are discarded).
nonisolated(unsafe) let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: 256 << 10, alignment: 16)
nonisolated(unsafe) var open = 0
nonisolated(unsafe) var received: UInt64 = 0
nonisolated(unsafe) let guardTimer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)

func clients() {
    var addr = sockaddr_in()
    check(uv_ip4_addr("127.0.0.1", Int32(options.port), &addr), "address")
    check(uv_timer_init(loop, guardTimer), "timer")
    // Bounded: the server runs at most --seconds after everyone connected; give up well after.
    uv_timer_start(guardTimer, { _ in
        say("fanout-floor: clients gave up waiting for the server")
        exit(1)
    }, UInt64(options.seconds + 60) * 1000, 0)
    uv_unref(asHandle(guardTimer))
    for _ in 0..<options.connections {
        let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        check(uv_tcp_init(loop, tcp), "tcp init")
        let req = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        open += 1
        let rc = withUnsafePointer(to: &addr) {
            uv_tcp_connect(req, tcp, UnsafeRawPointer($0).assumingMemoryBound(to: sockaddr.self)) { req, status in
                let stream = req!.pointee.handle!
                req!.deallocate()
                guard status == 0 else {
                    say("fanout-floor: connect: \(String(cString: uv_strerror(status)))")
                    exit(1)
                }
                uv_read_start(stream, { _, _, buf in
                    buf!.pointee = uv_buf_init(readBuffer.assumingMemoryBound(to: CChar.self), 256 << 10)
                }, { stream, n, _ in
                    if n > 0 { received &+= UInt64(n); return }
                    if n < 0 {
                        uv_close(asHandle(stream!), freeHandle)
                        open -= 1
                    }
                })
            }
        }
        check(rc, "connect")
    }
    uv_run(loop, UV_RUN_DEFAULT)
    print("fanout.floor_client_bytes: \(received)")
}

if options.role == "server" { serve() } else { clients() }
