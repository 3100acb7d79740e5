import NoexJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads and decodes the file given to `-c/--config`. Every failure is a `CommandLineError` that
/// names the path, what is wrong with it and what to do, because a user who mistyped a path or
/// left a comma in the JSON should not have to guess which of the two happened.
public enum ConfigFile {
    /// The decoded config file at `path` (relative to the working directory).
    public static func load(path: String) throws(CommandLineError) -> FileConfig {
        let bytes = try read(path)
        let json: JSON
        do {
            json = try JSON.parse(bytes)
        } catch {
            if error.kind == .unexpectedEnd && bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                throw CommandLineError("config file \"\(path)\" is empty; it must hold a JSON object such as {\"port\": 8080} (keys: docs/config.md)")
            }
            throw CommandLineError("config file \"\(path)\" is not valid JSON: \(describe(error, in: bytes)); fix the file there")
        }
        do {
            return try FileConfig.decode(json)
        } catch {
            throw CommandLineError("config file \"\(path)\": \(error.description)")
        }
    }

    /// The parse error with its position as line and column (1-based), which editors show,
    /// instead of a byte offset.
    static func describe(_ error: JSONParseError, in bytes: [UInt8]) -> String {
        var line = 1
        var column = 1
        for b in bytes.prefix(min(error.offset, bytes.count)) {
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
                column += 1
            }
        }
        var text = error.message
        let suffix = " at offset \(error.offset)"
        if text.hasSuffix(suffix) { text.removeLast(suffix.count) }
        return "\(text) at line \(line), column \(column)"
    }

    private static func read(_ path: String) throws(CommandLineError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw CommandLineError("cannot read config file \"\(path)\": \(reason); check the path given to -c/--config (a relative path starts at the current directory)")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw CommandLineError("config file \"\(path)\" is a directory; -c/--config takes the path of a JSON file (keys: docs/config.md)")
        }
        guard let f = fopen(path, "rb") else {
            let reason = String(cString: strerror(errno))
            throw CommandLineError("cannot read config file \"\(path)\": \(reason); make it readable by this user")
        }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < 65536 { break }
        }
        if ferror(f) != 0 {
            throw CommandLineError("cannot read config file \"\(path)\": \(String(cString: strerror(errno)))")
        }
        return out
    }
}
