import NoexJSON
import Testing

@testable import NoexPersistence

/// The sqlite engine's key → rowid map (`RecordRowMap`) against a dictionary, while it grows
/// in steps, its key texts spread over chunks and are compacted after mass removals.
@Suite struct RecordRowMapTests {
    /// Random sets (new keys and existing ones), removals and lookups while the map grows from
    /// empty to tens of thousands of keys (its table doubles many times, each doubling moved
    /// over a few entries per insertion) and shrinks again (the key texts compacted). One key in
    /// eight shares its hash with others, so probes must compare the bytes; some keys are long
    /// enough to fill a chunk of texts, one longer than a chunk. Every live key is checked at
    /// each thousandth step and a few at random after every other.
    @Test(arguments: [3, 4] as [UInt64])
    func matchesADictionaryWhileGrowingAndCompacting(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let map = RecordRowMap()
        var model: [[UInt8]: Int64] = [:]
        var liveKeys: [[UInt8]] = []  // the model's keys, in an order the seed decides
        var hashes: [[UInt8]: Int] = [:]
        func hash(_ key: [UInt8]) -> Int {
            if let h = hashes[key] { return h }
            let h = key.count % 8 == 0 ? 77 : Int.random(in: Int.min...Int.max, using: &rng)
            hashes[key] = h
            return h
        }
        func randomKey() -> [UInt8] {
            let length: Int
            switch Int.random(in: 0..<6000, using: &rng) {
            case 0: length = 100_000 + Int.random(in: 0..<300_000, using: &rng)
            case 1 where seed == 3: length = KeyTextChunks.chunkSize + 17
            default: length = Int.random(in: 1...48, using: &rng)
            }
            return (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        func check(_ key: [UInt8]) {
            let found = key.withUnsafeBytes { map.rowid($0, hash: hash(key)) }
            #expect(found == model[key], "key of \(key.count) bytes")
        }
        var nextRowid: Int64 = 1
        for step in 0..<60_000 {
            // Grow for 40,000 steps, then mostly remove.
            let removing = step >= 40_000 ? 8 : 2
            let choice = Int.random(in: 0..<10, using: &rng)
            if choice < removing, !liveKeys.isEmpty {
                let i = Int.random(in: 0..<liveKeys.count, using: &rng)
                liveKeys.swapAt(i, liveKeys.count - 1)
                let key = liveKeys.removeLast()
                let removed = key.withUnsafeBytes { map.remove($0, hash: hash(key)) }
                #expect(removed == model.removeValue(forKey: key))
            } else if choice == 9, !liveKeys.isEmpty {
                // A key that is there gets a new row: the old rowid comes back.
                let key = liveKeys[Int.random(in: 0..<liveKeys.count, using: &rng)]
                let old = try key.withUnsafeBytes { try map.set($0, hash: hash(key), rowid: nextRowid) }
                #expect(old == model[key])
                model[key] = nextRowid
                nextRowid += 1
            } else {
                let key = randomKey()
                let old = try key.withUnsafeBytes { try map.set($0, hash: hash(key), rowid: nextRowid) }
                #expect(old == model[key])
                if model[key] == nil { liveKeys.append(key) }
                model[key] = nextRowid
                nextRowid += 1
            }
            #expect(map.count == model.count)
            if step % 1000 == 999 {
                for key in liveKeys { check(key) }
            } else if !liveKeys.isEmpty {
                for _ in 0..<3 { check(liveKeys[Int.random(in: 0..<liveKeys.count, using: &rng)]) }
                check(randomKey())  // (almost surely) absent
            }
        }
        for key in liveKeys { check(key) }
    }

    /// A map built from scanned rows (at start) finds every key, keeps a repeated key's first
    /// row and reports the later ones as duplicates, and goes on growing from there.
    @Test func scannedRowsKeepTheFirstOfARepeatedKey() throws {
        var scanned = RecordRowMap.Scanned()
        let keys = (0..<5000).map { Array("\"k\($0)\"".utf8) }
        for (i, key) in keys.enumerated() { try key.withUnsafeBytes { try scanned.append($0, rowid: Int64(i + 1)) } }
        try keys[7].withUnsafeBytes { try scanned.append($0, rowid: 9001) }
        try keys[4999].withUnsafeBytes { try scanned.append($0, rowid: 9002) }
        var duplicates: [Int64] = []
        let map = RecordRowMap(scanned, duplicates: &duplicates)
        #expect(duplicates == [9001, 9002])
        #expect(map.count == 5000)
        for (i, key) in keys.enumerated() {
            #expect(key.withUnsafeBytes { map.rowid($0, hash: RecordRowMap.hash($0)) } == Int64(i + 1))
        }
        for i in 5000..<20_000 {
            let key = Array("\"k\(i)\"".utf8)
            #expect(try key.withUnsafeBytes { try map.set($0, hash: RecordRowMap.hash($0), rowid: Int64(i + 1)) } == nil)
        }
        for i in stride(from: 0, to: 20_000, by: 7) {
            let key = Array("\"k\(i)\"".utf8)
            #expect(key.withUnsafeBytes { map.rowid($0, hash: RecordRowMap.hash($0)) } == Int64(i + 1))
        }
    }

    /// Key texts across chunk boundaries: each comes back as written, a key that does not fit
    /// in the rest of a chunk starts the next, and a key longer than a chunk gets its own.
    @Test func keyTextsAcrossChunks() throws {
        let chunks = KeyTextChunks()
        var written: [(address: UInt32, bytes: [UInt8])] = []
        var rng = SeededRandom(seed: 9)
        let sizes = [1, 4095, 2, 5000, 400_000, 700_000, 3 * KeyTextChunks.chunkSize / 2, 12, 1_048_000, 100]
        for size in sizes {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            written.append((try bytes.withUnsafeBytes { try chunks.append($0) }, bytes))
        }
        // Taken back: the next key takes its place.
        let dropped = try [UInt8](repeating: 1, count: 50).withUnsafeBytes { try chunks.append($0) }
        chunks.removeLast(50)
        let again = try [UInt8](repeating: 2, count: 50).withUnsafeBytes { try chunks.append($0) }
        #expect(again == dropped)
        written.append((again, [UInt8](repeating: 2, count: 50)))
        for (address, bytes) in written {
            #expect(Array(chunks.bytes(address, count: bytes.count)) == bytes)
            #expect(bytes.withUnsafeBytes { chunks.equals(address, $0) })
        }
        // The first chunk grew in place (its keys kept their addresses); later keys went to
        // chunks of their own.
        #expect(written[0].address == 0 && written[1].address == 1 && written[3].address == 4098)
        #expect(Set(written.map { $0.address >> 20 }).count > 3)
    }
}
