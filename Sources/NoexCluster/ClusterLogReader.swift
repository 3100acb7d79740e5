import NoexJSON

/// Follows the cluster's stream in order from a given id on its own connection (XREAD BLOCK
/// with a bounded COUNT), handing each entry to `onEntry` on the loop thread. After a
/// reconnect it resumes after the last entry it delivered. Before reading — at start and after
/// every reconnect — it checks that nothing it still needs was trimmed away; if something
/// was, it stops and reports `onGap`: the node must load a snapshot and `resume(from:)`.
public final class ClusterLogReader {
    public let streamKey: String
    public let connection: RedisConnection
    /// Entries per XREAD (bounds the work of one loop iteration).
    public let batch: Int
    /// How long one XREAD waits for new entries before it is issued again.
    public let blockMs: Int
    /// The last id handed to `onEntry`.
    public private(set) var lastID: StreamID
    /// Entries the last read returned: below `batch`, the reader had reached the log's tail.
    public private(set) var lastReadCount = 0
    /// Called for every entry, in stream order; `entry` is nil when the field is not JSON.
    public var onEntry: ((StreamID, JSON?) -> Void)?
    /// Called when entries after `lastID` were trimmed: reading stopped.
    public var onGap: ((_ lastID: StreamID, _ newestTrimmed: StreamID) -> Void)?
    /// Called when a read fails for another reason than a lost connection (error reply).
    public var onError: ((String) -> Void)?

    public enum State: Equatable, Sendable { case stopped, checking, reading, gap }
    public private(set) var state: State = .stopped
    /// Bumped on every (re)start, so replies of an earlier read are ignored.
    private var generation = 0

    public init(cluster name: String, connection: RedisConnection, from id: StreamID, batch: Int = 256, blockMs: Int = 1000) {
        streamKey = ClusterLog.streamKey(cluster: name)
        self.connection = connection
        self.batch = Swift.max(1, batch)
        self.blockMs = Swift.max(1, blockMs)
        lastID = id
        let previous = connection.onEvent
        connection.onEvent = { [weak self] event in
            previous?(event)
            if event == .connected, let self, self.state != .stopped, self.state != .gap { self.begin() }
        }
    }

    /// Starts (or restarts) following after `lastID`.
    public func start() {
        state = .checking
        connection.start()
        if connection.state == .connected { begin() }
    }

    /// Continues after `id` (e.g. the position of a snapshot just loaded, after a gap).
    public func resume(from id: StreamID) {
        lastID = id
        start()
    }

    public func stop() {
        state = .stopped
        generation += 1
    }

    private func begin() {
        generation += 1
        let gen = generation
        state = .checking
        connection.send(["GET", ClusterLog.trimmedKey(streamKey)]) { [weak self] result in
            guard let self, gen == self.generation else { return }
            switch result {
            case .failure: return  // the next .connected restarts
            case .success(.error(let e)):
                self.onError?("GET \(ClusterLog.trimmedKey(self.streamKey)) failed: \(e)")
            case .success(let reply):
                if let trimmed = reply.text.flatMap(StreamID.init), trimmed > self.lastID {
                    self.state = .gap
                    self.onGap?(self.lastID, trimmed)
                    return
                }
                self.read(gen)
            }
        }
    }

    private func read(_ gen: Int) {
        state = .reading
        connection.send(["XREAD", "COUNT", String(batch), "BLOCK", String(blockMs), "STREAMS", streamKey, lastID.description]) {
            [weak self] result in
            guard let self, gen == self.generation, self.state == .reading else { return }
            switch result {
            case .failure: return  // the next .connected restarts
            case .success(.error(let e)):
                self.onError?("XREAD \(self.streamKey) failed: \(e)")
            case .success(let reply):
                let entries = Self.entries(reply)
                self.lastReadCount = entries.count
                for (id, entry) in entries where id > self.lastID {
                    self.lastID = id
                    self.onEntry?(id, entry)
                    if gen != self.generation || self.state != .reading { return }  // stopped by the callback
                }
                self.read(gen)
            }
        }
    }

    /// `[[key, [[id, [field, value, …]], …]]]` (or null on timeout) → entries.
    static func entries(_ reply: RedisReply) -> [(StreamID, JSON?)] {
        guard let streams = reply.elements else { return [] }
        var out: [(StreamID, JSON?)] = []
        for s in streams {
            guard let pair = s.elements, pair.count == 2, let items = pair[1].elements else { continue }
            for item in items {
                guard let e = item.elements, e.count == 2, let text = e[0].text, let id = StreamID(text) else { continue }
                var entry: JSON?
                if let fields = e[1].elements {
                    var i = 0
                    while i + 1 < fields.count {
                        if fields[i].text == "c", case .bulk(let bytes) = fields[i + 1] { entry = try? JSON.parse(bytes) }
                        i += 2
                    }
                }
                out.append((id, entry))
            }
        }
        return out
    }
}
