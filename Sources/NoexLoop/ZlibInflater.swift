// A raw-DEFLATE inflater (RFC 7692 §7.2.2) that never produces more than a caller's limit.
import CZlib

/// What one `inflate` call ended with.
public enum InflateOutcome: Equatable, Sendable {
    /// All input was used; the output is within the limit.
    case ok
    /// The output would pass the limit (a decompression bomb or just a large message); the
    /// output holds what fits, exactly `limit` bytes.
    case tooBig
    /// The input is not valid DEFLATE data.
    case corrupt
    /// zlib could not allocate its state.
    case outOfMemory
}

/// zlib inflate state at a stable heap address (zlib checks that the stream did not move).
/// Created only when a connection's first compressed message arrives. Public for clients (the
/// tests' and the load generator's WebSocket clients inflate the server's messages with it).
public final class ZlibInflater {
    private let stream: UnsafeMutablePointer<z_stream>

    public init?() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Always the full 32 KiB window: a client's smaller window is a subset of it.
        guard noex_inflate_init2(stream, -15) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates `input`, appending to `out`; stops with `.tooBig` as soon as `out` would exceed
    /// `limit` bytes (after appending what fits). Output goes through a 16 KiB stack buffer, so
    /// nothing past the limit is ever allocated. Whatever the outcome, `out` holds everything
    /// inflated before it, however the input was split, so a caller's checks on it (UTF-8) see
    /// the same bytes either way.
    public func inflate(_ input: UnsafeRawBufferPointer, into out: inout [UInt8], limit: Int) -> InflateOutcome {
        guard let base = input.baseAddress, !input.isEmpty else { return .ok }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = UInt32(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        return withUnsafeTemporaryAllocation(byteCount: 16 << 10, alignment: 1) { chunk -> InflateOutcome in
            while true {
                // One byte of room past the limit is enough to notice that it would be passed.
                let room = min(chunk.count, limit - out.count + 1)
                stream.pointee.next_out = chunk.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(room)
                let rc = CZlib.inflate(stream, Z_SYNC_FLUSH)
                var produced = room - Int(stream.pointee.avail_out)
                let overflow = out.count + produced > limit
                if overflow { produced = limit - out.count }
                // Grow at most to the limit (append alone could double the capacity past it).
                if out.count + produced > out.capacity {
                    out.reserveCapacity(min(limit, max(out.count + produced, out.capacity * 2)))
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<produced]))
                if overflow { return .tooBig }
                switch rc {
                case Z_OK:
                    break
                case Z_STREAM_END:
                    // A final block (BFINAL) ends zlib's stream, not the message: start a new
                    // stream that keeps the window, so context takeover still works.
                    guard restartKeepingWindow() else { return .outOfMemory }
                case Z_BUF_ERROR:
                    // No progress possible: all input used (more may come in the next frame).
                    if stream.pointee.avail_in == 0 { return .ok }
                    if stream.pointee.avail_out > 0 { return .corrupt }
                case Z_MEM_ERROR:
                    return .outOfMemory
                default:
                    return .corrupt
                }
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return .ok }
            }
        }
    }

    /// After Z_STREAM_END: reset, then restore the last 32 KiB as the dictionary.
    private func restartKeepingWindow() -> Bool {
        var window = [UInt8](repeating: 0, count: 1 << 15)
        var length: UInt32 = 0
        guard inflateGetDictionary(stream, &window, &length) == Z_OK, inflateReset(stream) == Z_OK else { return false }
        if length > 0 { return inflateSetDictionary(stream, window, length) == Z_OK }
        return true
    }
}
