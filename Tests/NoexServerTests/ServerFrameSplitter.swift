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
