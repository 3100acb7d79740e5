// A raw-DEFLATE compressor for outbound messages (RFC 7692 §7.2.1).
import CZlib

/// zlib deflate state at a stable heap address. One message in, its compressed bytes out,
/// without the 0x00 0x00 0xff 0xff tail (§7.2.1: the receiver appends it).
public final class ZlibDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    let windowBits: Int
    /// Compress each message on its own (reset before each one).
    let noContextTakeover: Bool
    /// Set when the peer's window no longer matches ours (a message the compressor saw may be
    /// dropped from the queue): the next message starts from an empty window.
    public var needsReset = false

    public init?(windowBits: Int, memLevel: Int, level: Int, noContextTakeover: Bool) {
        self.windowBits = windowBits
        self.noContextTakeover = noContextTakeover
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard noex_deflate_init2(stream, Int32(level), Int32(-windowBits), Int32(memLevel)) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// The compressed payload of one message.
    public func compress(_ payload: UnsafeRawBufferPointer) -> [UInt8] {
        if noContextTakeover || needsReset {
            deflateReset(stream)
            needsReset = false
        }
        // deflateBound covers the data; a sync flush adds at most a few bytes (the empty stored
        // block, 5 bytes, plus a partial byte), and the loop below grows the buffer if needed.
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(payload.count))) + 16)
        var used = 0
        stream.pointee.next_in = UnsafeMutablePointer(mutating: payload.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(payload.count)
        while true {
            let room = out.count - used
            let rc = out.withUnsafeMutableBytes { buf -> Int32 in
                stream.pointee.next_out = buf.baseAddress!.assumingMemoryBound(to: Bytef.self) + used
                stream.pointee.avail_out = UInt32(room)
                return deflate(stream, Z_SYNC_FLUSH)
            }
            used += room - Int(stream.pointee.avail_out)
            precondition(rc == Z_OK || rc == Z_BUF_ERROR, "deflate failed: \(rc)")
            // Done when zlib left output room unused (everything, including the flush, is out).
            if stream.pointee.avail_out > 0 { break }
            out.append(contentsOf: repeatElement(0, count: max(64, out.count / 2)))
        }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        out.removeSubrange(used...)
        // Z_SYNC_FLUSH ends with an empty stored block: 0x00 0x00 0xff 0xff.
        if out.count >= 4 && out[out.count - 4] == 0 && out[out.count - 3] == 0
            && out[out.count - 2] == 0xFF && out[out.count - 1] == 0xFF {
            out.removeLast(4)
        }
        return out
    }
}
