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

/// Heap bytes in use (glibc's allocator statistics; zlib allocates through malloc).
func heapInUse() -> Int { Int(mallinfo2().uordblks) }

let sizes = [("1rec", 1), ("5rec", 5), ("100rec", 100)]
let iterations = 2_000

for (label, count) in sizes {
    let messages = (0..<64).map { answer(records: count, seed: $0) }
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
    let shared = ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: true)!
    var last: [UInt8] = []
    var lastOut: [UInt8] = []
    let t0 = nowNs()
    for _ in 0..<subscribers {
        if last != payload {
            lastOut = payload.withUnsafeBytes { shared.compress($0) }
            last = payload
        }
    }
    let t1 = nowNs()
    let perConnection = (0..<subscribers).map { _ in ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: false)! }
    let t2 = nowNs()
    for d in perConnection { _ = payload.withUnsafeBytes { d.compress($0) } }
    let t3 = nowNs()
    precondition(!lastOut.isEmpty)
    figure("deflate.fanout.shared_us_per_push", Double(t1 - t0) / Double(subscribers) / 1000, 3)
    figure("deflate.fanout.per_connection_us_per_push", Double(t3 - t2) / Double(subscribers) / 1000, 3)
}

// zlib heap per connection: N compressors / inflaters, each after one message (zlib allocates
// its window lazily), measured as the allocator's in-use delta.
do {
    let n = 200
    let message = answer(records: 20, seed: 3)
    let packed = message.withUnsafeBytes { ZlibDeflater(windowBits: 15, memLevel: 8, level: 6, noContextTakeover: true)!.compress($0) } + [0, 0, 0xFF, 0xFF]
    let before = heapInUse()
    var inflaters: [ZlibInflater] = []
    var scratch: [UInt8] = []
    scratch.reserveCapacity(message.count)
    for _ in 0..<n {
        let i = ZlibInflater()!
        scratch.removeAll(keepingCapacity: true)
        _ = packed.withUnsafeBytes { i.inflate($0, into: &scratch, limit: 1 << 20) }
        inflaters.append(i)
    }
    figure("deflate.bytes_per_conn.inflater", Double(heapInUse() - before) / Double(n), 0)
    inflaters.removeAll()
    for (w, m) in [(15, 8), (12, 5), (10, 4), (9, 1)] {
        let b = heapInUse()
        var ds: [ZlibDeflater] = []
        for _ in 0..<n {
            let d = ZlibDeflater(windowBits: w, memLevel: m, level: 6, noContextTakeover: false)!
            _ = message.withUnsafeBytes { d.compress($0) }
            ds.append(d)
        }
        figure("deflate.bytes_per_conn.deflater_w\(w)_m\(m)", Double(heapInUse() - b) / Double(n), 0)
        ds.removeAll()
    }
}
