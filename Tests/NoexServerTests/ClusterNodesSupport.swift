import Foundation
import NoexJSON
import Testing

/// One Redis command over a fresh TCP connection (RESP); the first line of the reply
/// (`:12`, `+OK`, `$-1`…), or nil when Redis does not answer within a second.
func redisCommand(port: Int, _ args: [String]) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let ok = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard ok == 0 else { return nil }
    var out = "*\(args.count)\r\n"
    for a in args { out += "$\(a.utf8.count)\r\n\(a)\r\n" }
    let bytes = Array(out.utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { return nil }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while !reply.contains(UInt8(ascii: "\n")) {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return nil }
        reply += buffer[0..<n]
    }
    return String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
}
