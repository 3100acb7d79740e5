// Socket pieces the blocking test clients share.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Takes one complete unmasked server frame off the front of `buffer` (RFC 6455 §5.2), or
/// leaves it untouched and returns nil while the frame is still incomplete. The test clients
/// map the opcode and payload onto their own event types.
func takeServerFrame(from buffer: inout [UInt8]) -> (opcode: UInt8, payload: [UInt8])? {
    guard buffer.count >= 2 else { return nil }
    let opcode = buffer[0] & 0x0F
    var len = Int(buffer[1] & 0x7F)
    var off = 2
    if len == 126 {
        guard buffer.count >= 4 else { return nil }
        len = Int(buffer[2]) << 8 | Int(buffer[3])
        off = 4
    } else if len == 127 {
        guard buffer.count >= 10 else { return nil }
        len = 0
        for i in 2..<10 { len = len << 8 | Int(buffer[i]) }
        off = 10
    }
    guard buffer.count >= off + len else { return nil }
    let payload = Array(buffer[off..<(off + len)])
    buffer.removeFirst(off + len)
    return (opcode, payload)
}

/// A blocking TCP socket connected to 127.0.0.1:`port` with Nagle off, or nil; the caller
/// owns (and closes) the descriptor.
func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else {
        close(fd)
        return nil
    }
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    return fd
}
