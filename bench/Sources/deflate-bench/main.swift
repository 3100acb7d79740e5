// permessage-deflate costs, measured on the server's own compression code (NoexLoop's
// ZlibDeflater / ZlibInflater, the code the transport runs per message): CPU per message to
// compress and inflate typical protocol answers, bytes on the wire with and without it, the
// fan-out saving of one shared compressed frame, and zlib's heap per connection in each mode.
// One figure per line (`name: value`); every loop is bounded in count.
import NoexLoop

#if canImport(Glibc)
    import Glibc
#endif

func nowNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func figure(_ name: String, _ value: Double, _ digits: Int = 2) {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    print("\(name): \((value * scale).rounded() / scale)")
}

/// A `store.get`-style answer: one record, or a query result of `count` records.
func answer(records count: Int, seed: Int) -> [UInt8] {
    var s = #"{"id":\#(seed),"type":"result","data":["#
    for i in 0..<count {
        if i > 0 { s += "," }
        let n = seed &* 7919 &+ i
        s += #"{"id":"u\#(n)","name":"User \#(n % 1000)","email":"user\#(n % 1000)@example.com","age":\#(18 + n % 60),"#
        s += #""role":"\#(n % 3 == 0 ? "admin" : "member")","credits":\#(n % 500),"_version":1,"#
        s += #""_createdAt":\#(1_700_000_000_000 + n),"_updatedAt":\#(1_700_000_000_000 + n)}"#
    }
    return Array((s + "]}").utf8)
}

/// Resident bytes of this process (/proc/self/statm): what zlib's state really costs, i.e. the
/// pages it touched; zlib allocates more than it touches for short messages (see the formula
/// figures next to it).
func residentBytes() -> Int {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    _ = withUnsafeMutablePointer(to: &size) { s in
        withUnsafeMutablePointer(to: &resident) { r in
            withVaList([s, r]) { vfscanf(f, "%ld %ld", $0) }
        }
    }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE)))
}

let sizes = [("1rec", 1), ("5rec", 5), ("100rec", 100)]
let iterations = 2_000

for (label, count) in sizes {
    // Distinct answers (different ids and values), as a client's successive reads would be.
    let messages = (0..<iterations).map { answer(records: count, seed: $0) }
    let plain = messages[0].count
    for (mode, takeover) in [("shared", false), ("takeover", true)] {
        let d = ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: !takeover)!
        let inflater = ZlibInflater()!
        var wire = 0
        var compressNs: UInt64 = 0
        var inflateNs: UInt64 = 0
        var out: [UInt8] = []
        for i in 0..<iterations {
            let m = messages[i % messages.count]
            let t0 = nowNs()
            let packed = m.withUnsafeBytes { d.compress($0) }
            let t1 = nowNs()
            out.removeAll(keepingCapacity: true)
            let rc = (packed + [0, 0, 0xFF, 0xFF]).withUnsafeBytes { inflater.inflate($0, into: &out, limit: 1 << 30) }
            let t2 = nowNs()
            precondition(rc == .ok && out == m, "round trip failed")
            compressNs += t1 - t0
            inflateNs += t2 - t1
            wire += packed.count
        }
        figure("deflate.\(mode).\(label).plain_bytes", Double(plain), 0)
        figure("deflate.\(mode).\(label).wire_bytes", Double(wire) / Double(iterations), 0)
        figure("deflate.\(mode).\(label).compress_us", Double(compressNs) / Double(iterations) / 1000)
        figure("deflate.\(mode).\(label).inflate_us", Double(inflateNs) / Double(iterations) / 1000)
    }
}

// Fan-out: one event payload to 1,000 subscribers. Without context takeover the shared
// compressor's one-entry cache serves the same bytes 999 times; with it each connection
// compresses its own copy.
do {
    let payload = answer(records: 5, seed: 1)
    let subscribers = 1_000
    // The transport's own loop-wide compressor (what `send` uses without context takeover).
    let shared = SharedCompressors(config: PerMessageDeflateConfig())
    var lastOut: [UInt8] = []
    let t0 = nowNs()
    for _ in 0..<subscribers { lastOut = payload.withUnsafeBytes { shared.compress($0, windowBits: 15) }! }
    let t1 = nowNs()
    precondition(shared.compressions == 1 && shared.reuses == subscribers - 1)
    let perConnection = (0..<subscribers).map { _ in ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: false)! }
    let t2 = nowNs()
    for d in perConnection { _ = payload.withUnsafeBytes { d.compress($0) } }
    let t3 = nowNs()
    precondition(!lastOut.isEmpty)
    figure("deflate.fanout.shared_us_per_push", Double(t1 - t0) / Double(subscribers) / 1000, 3)
    figure("deflate.fanout.per_connection_us_per_push", Double(t3 - t2) / Double(subscribers) / 1000, 3)
}

// zlib memory per connection: N compressors / inflaters, each after one ~4 KiB message (zlib
// allocates its window lazily), measured as the resident-set delta; next to it zlib's documented
// allocation, the bound when messages fill the whole window.
do {
    let n = 500
    // Nothing is freed until the end: a freed compressor's pages would be reused by the next
    // measurement and hide its cost.
    var keepAlive: [[AnyObject]] = []
    let message = answer(records: 20, seed: 3)
    let packed = message.withUnsafeBytes { ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: true)!.compress($0) } + [0, 0, 0xFF, 0xFF]
    let before = residentBytes()
    var inflaters: [ZlibInflater] = []
    var scratch: [UInt8] = []
    scratch.reserveCapacity(message.count)
    for _ in 0..<n {
        let i = ZlibInflater()!
        scratch.removeAll(keepingCapacity: true)
        _ = packed.withUnsafeBytes { i.inflate($0, into: &scratch, limit: 1 << 20) }
        inflaters.append(i)
    }
    figure("deflate.bytes_per_conn.inflater_rss", Double(residentBytes() - before) / Double(n), 0)
    figure("deflate.bytes_per_conn.inflater_alloc", Double((1 << 15) + 7 * 1024), 0)
    keepAlive.append(inflaters)
    for (w, m) in [(9, 1), (10, 4), (12, 5), (15, 8)] {
        let b = residentBytes()
        var ds: [ZlibDeflater] = []
        for _ in 0..<n {
            let d = ZlibDeflater(windowBits: w, memLevel: m, level: 6, noContextTakeover: false)!
            _ = message.withUnsafeBytes { d.compress($0) }
            ds.append(d)
        }
        figure("deflate.bytes_per_conn.deflater_w\(w)_m\(m)_rss", Double(residentBytes() - b) / Double(n), 0)
        figure("deflate.bytes_per_conn.deflater_w\(w)_m\(m)_alloc", Double((1 << (w + 2)) + (1 << (m + 9)) + 6 * 1024), 0)
        keepAlive.append(ds)
    }
}
