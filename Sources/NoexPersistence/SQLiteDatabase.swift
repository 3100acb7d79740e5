import CSQLite

/// A failed SQLite call, with SQLite's own message and the file it concerns.
public struct PersistenceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One SQLite connection, used through the C API directly.
///
/// Not thread-safe by itself and needs no lock: the owner guarantees that exactly one thread
/// uses it at a time (the loop thread, or a libuv worker while the loop waits for it).
final class SQLiteDatabase {
    let path: String
    private(set) var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws(PersistenceError) {
        self.path = path
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let msg = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close(db)
            throw PersistenceError("cannot open database \"\(path)\": \(msg)")
        }
        handle = db
    }

    deinit { close() }

    func close() {
        for (_, s) in statements { sqlite3_finalize(s) }
        statements = [:]
        if let handle { sqlite3_close(handle) }
        handle = nil
    }

    func error(_ what: String) -> PersistenceError {
        let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "closed"
        return PersistenceError("\(what) failed on \"\(path)\": \(msg)")
    }

    /// How long a statement waits for another connection's lock before SQLITE_BUSY.
    func busyTimeout(ms: Int32) { sqlite3_busy_timeout(handle, ms) }

    /// Runs SQL without results (several statements allowed).
    func exec(_ sql: String) throws(PersistenceError) {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &err) != SQLITE_OK {
            var msg = err.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(err)
            if sqlite3_errcode(handle) == SQLITE_BUSY { msg += " (is another noex-server using it?)" }
            throw PersistenceError("\(sql.split(separator: " ").prefix(3).joined(separator: " ")) failed on \"\(path)\": \(msg)")
        }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    func statement(_ sql: String) throws(PersistenceError) -> Statement {
        if let s = statements[sql] {
            sqlite3_reset(s)
            sqlite3_clear_bindings(s)
            return Statement(raw: s, db: self)
        }
        var s: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &s, nil) == SQLITE_OK, let s else { throw error("prepare") }
        statements[sql] = s
        return Statement(raw: s, db: self)
    }

    /// Runs `body` in one write transaction: committed if it returns, rolled back if it (or
    /// the commit) throws.
    func transaction(_ body: () throws(PersistenceError) -> Void) throws(PersistenceError) {
        try exec("BEGIN IMMEDIATE")
        do throws(PersistenceError) {
            try body()
            try exec("COMMIT")
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }

    /// One row of a single-column integer query, nil when there is no row. The statement is
    /// reset at once: a statement left mid-result keeps its table locked against schema changes.
    func scalarInt(_ sql: String) throws(PersistenceError) -> Int64? {
        let s = try statement(sql)
        defer { s.reset() }
        return try s.step() ? s.int(0) : nil
    }
}

/// A prepared statement: bind by 1-based position, step, read columns by 0-based position.
struct Statement {
    let raw: OpaquePointer
    unowned let db: SQLiteDatabase

    func bind(_ i: Int32, _ text: String) {
        sqlite3_bind_text(raw, i, text, -1, noex_sqlite_transient())
    }

    func bind(_ i: Int32, bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer {
            _ = sqlite3_bind_text(raw, i, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                                  Int32($0.count), noex_sqlite_transient())
        }
    }

    func bind(_ i: Int32, _ value: Int64) { sqlite3_bind_int64(raw, i, value) }
    func bindNull(_ i: Int32) { sqlite3_bind_null(raw, i) }

    /// Binds text without a copy (SQLITE_STATIC): the bytes must stay valid and unchanged until
    /// the statement has run, so callers bind and run inside the closure that lends the bytes.
    func bindNoCopy(_ i: Int32, _ bytes: UnsafeRawBufferPointer) {
        // An empty buffer has no base address; SQLite reads a NULL pointer as SQL NULL.
        let p = bytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)
        sqlite3_bind_text(raw, i, p.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
    }

    /// Readies a held statement for its next run; every parameter is bound again by the caller.
    func reset() { sqlite3_reset(raw) }

    /// True when a row is available, false when done.
    func step() throws(PersistenceError) -> Bool {
        switch sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw db.error("write")
        }
    }

    /// Runs a statement that returns no rows.
    func run() throws(PersistenceError) { _ = try step() }

    func int(_ col: Int32) -> Int64 { sqlite3_column_int64(raw, col) }

    func text(_ col: Int32) -> String {
        guard let p = sqlite3_column_text(raw, col) else { return "" }
        return String(cString: p)
    }

    /// The column's bytes without a String round trip (records are parsed straight from them).
    func bytes(_ col: Int32) -> UnsafeRawBufferPointer {
        let n = Int(sqlite3_column_bytes(raw, col))
        guard let p = sqlite3_column_blob(raw, col) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }
}
