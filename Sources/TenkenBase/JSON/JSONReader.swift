/// Reads JSON (RFC 8259) value by value from bytes, without building a tree: the caller takes
/// the members it needs and skips the rest, and what it skips is still checked to be JSON.
/// The collector reads a few fields of each 40 KB report this way; Foundation's JSONDecoder,
/// which maps the whole document first, took a quarter of its time.
///
/// Strict: UTF-8 only, no trailing commas or comments, no lone surrogates, nesting at most
/// `maximumDepth` deep (a hostile document cannot exhaust the stack).
public struct JSONReader {
    /// Why the bytes are not the JSON expected, and the byte offset where reading stopped.
    public struct Malformed: Error, Sendable, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// The type of the next value, so a caller can choose how to read it before reading.
    public enum Kind: Sendable, Equatable { case object, array, string, number, bool, null }

    public static let maximumDepth = 64

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// UTF-8 is checked where it can occur: every non-ASCII byte of a JSON text is inside a
    /// string, and strings are checked as they are read or skipped (one pass over the bytes).
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// What the next value is, without reading it.
    public mutating func kind() throws(Malformed) -> Kind {
        switch try peekSignificant() {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw malformed("expected a value")
        }
    }

    /// Calls `member` with each key in turn; it must read or skip that key's value.
    public mutating func object(_ member: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"), "expected an object")
        try enter()
        if try peekSignificant() == UInt8(ascii: "}") {
            position += 1
        } else {
            repeat {
                guard try peekSignificant() == UInt8(ascii: "\"") else { throw malformed("expected a key") }
                let key = try string()
                try expect(UInt8(ascii: ":"), "expected ':'")
                try member(&self, key)
            } while try separator(closing: UInt8(ascii: "}"))
        }
        depth -= 1
    }

    /// Calls `element` once per element; it must read or skip it.
    public mutating func array(_ element: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["), "expected an array")
        try enter()
        if try peekSignificant() == UInt8(ascii: "]") {
            position += 1
        } else {
            repeat { try element(&self) } while try separator(closing: UInt8(ascii: "]"))
        }
        depth -= 1
    }

    public mutating func string() throws(Malformed) -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        let start = position
        guard try skipStringBody() else {
            return String(decoding: bytes[start..<(position - 1)], as: UTF8.self)
        }
        return try unescape(from: start)
    }

    /// An integer without fraction or exponent that fits in Int.
    public mutating func integer() throws(Malformed) -> Int {
        let start = try numberRange()
        guard let value = Int(String(decoding: bytes[start..<position], as: UTF8.self)) else {
            position = start
            throw malformed("expected an integer")
        }
        return value
    }

    /// The number as written (callers choose the type it must fit).
    public mutating func number() throws(Malformed) -> String {
        let start = try numberRange()
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    public mutating func bool() throws(Malformed) -> Bool {
        if try literal("true") { return true }
        if try literal("false") { return false }
        throw malformed("expected true or false")
    }

    /// Reads `null` if it comes next; false (and nothing read) otherwise.
    public mutating func null() throws(Malformed) -> Bool {
        try literal("null")
    }

    /// Skips a value, still checking it is JSON; keys of skipped objects are not made into
    /// Strings (a report's evidence has hundreds).
    public mutating func skipValue() throws(Malformed) {
        switch try kind() {
        case .object: try skipContainer(opening: UInt8(ascii: "{"), closing: UInt8(ascii: "}"))
        case .array: try skipContainer(opening: UInt8(ascii: "["), closing: UInt8(ascii: "]"))
        case .string:
            position += 1
            _ = try skipStringBody()
        case .number: _ = try numberRange()
        case .bool: _ = try bool()
        case .null: _ = try null()
        }
    }

    private mutating func skipContainer(opening: UInt8, closing: UInt8) throws(Malformed) {
        position += 1  // kind() saw the opening bracket
        try enter()
        if try peekSignificant() == closing {
            position += 1
        } else {
            repeat {
                if opening == UInt8(ascii: "{") {
                    guard try peekSignificant() == UInt8(ascii: "\"") else { throw malformed("expected a key") }
                    position += 1
                    _ = try skipStringBody()
                    try expect(UInt8(ascii: ":"), "expected ':'")
                }
                try skipValue()
            } while try separator(closing: closing)
        }
        depth -= 1
    }

    /// Only whitespace may follow the value read.
    public mutating func end() throws(Malformed) {
        skipWhitespace()
        guard position == bytes.count else { throw malformed("unexpected data after the value") }
    }

    // MARK: - Bytes

    private func malformed(_ reason: String) -> Malformed {
        Malformed(offset: position, reason: reason)
    }

    private mutating func enter() throws(Malformed) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw malformed("nested deeper than \(Self.maximumDepth)") }
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func peekSignificant() throws(Malformed) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw malformed("unexpected end") }
        return bytes[position]
    }

    private mutating func expect(_ byte: UInt8, _ reason: String) throws(Malformed) {
        guard try peekSignificant() == byte else { throw malformed(reason) }
        position += 1
    }

    /// After a member or element: true for ',' (another follows), false for the closing bracket.
    private mutating func separator(closing: UInt8) throws(Malformed) -> Bool {
        switch try peekSignificant() {
        case UInt8(ascii: ","):
            position += 1
            return true
        case closing:
            position += 1
            return false
        default:
            throw malformed("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) -> Bool {
        skipWhitespace()
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        if matches { position += count }
        return matches
    }

    /// From after the opening quote to after the closing one; true if escapes were seen.
    /// Checks the escapes too (a skipped string must be as valid as a read one), so that
    /// `unescape` can rely on them.
    private mutating func skipStringBody() throws(Malformed) -> Bool {
        var escaped = false
        /// A \u escape of a high surrogate must be followed at once by one of a low surrogate.
        var needsLowSurrogate = false
        while true {
            if !needsLowSurrogate { position = endOfPlainRun(from: position) }
            guard position < bytes.count else { break }
            let byte = bytes[position]
            position += 1
            if needsLowSurrogate,
                byte != UInt8(ascii: "\\") || position >= bytes.count || bytes[position] != UInt8(ascii: "u")
            {
                position -= 1
                throw malformed("lone surrogate")
            }
            if byte == UInt8(ascii: "\"") { return escaped }
            if byte >= 0x80 {
                position -= 1
                throw malformed("not UTF-8")
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                guard position < bytes.count else { break }
                switch bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    position += 1
                    let unit = try hexQuad()
                    switch unit {
                    case 0xDC00...0xDFFF where needsLowSurrogate: needsLowSurrogate = false
                    case _ where needsLowSurrogate, 0xDC00...0xDFFF:
                        throw Malformed(offset: position - 6, reason: "lone surrogate")
                    case 0xD800...0xDBFF: needsLowSurrogate = true
                    default: break
                    }
                default:
                    throw malformed("unknown escape")
                }
            } else if byte < 0x20 {
                position -= 1
                throw malformed("control character in a string")
            }
        }
        throw malformed("unterminated string")
    }

    /// The first quote, backslash, control byte or invalid UTF-8 from `start` on (or the end).
    /// Most of a report's bytes are string contents, so this is where reading spends its time:
    /// plain ASCII is passed eight bytes at a time, other UTF-8 sequence by sequence.
    private func endOfPlainRun(from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            var index = start
            while true {
                while index + 8 <= buffer.count {
                    let word = UnsafeRawPointer(buffer.baseAddress! + index).loadUnaligned(as: UInt64.self)
                    let quote = word ^ (ones &* 0x22)
                    let backslash = word ^ (ones &* 0x5C)
                    // A byte of the quote or backslash words is zero, a byte is below 0x20, or
                    // one is 0x80 or above: then byte by byte (borrows only err after the first).
                    let special =
                        ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | (word &- ones &* 0x20) | word
                    if special & high != 0 { break }
                    index += 8
                }
                guard index < buffer.count else { return index }
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
                if byte < 0x80 {
                    index += 1
                    continue
                }
                let length = Self.utf8SequenceLength(buffer, at: index)
                if length == 0 { return index }
                index += length
            }
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` with a byte of 0x80 or
    /// above (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
    private static func utf8SequenceLength(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let length: Int
        let second: ClosedRange<UInt8>
        switch buffer[index] {
        case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
        case 0xE0: (length, second) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
        case 0xED: (length, second) = (3, 0x80...0x9F)
        case 0xF0: (length, second) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
        case 0xF4: (length, second) = (4, 0x80...0x8F)
        default: return 0
        }
        guard index + length <= buffer.count, second.contains(buffer[index + 1]) else { return 0 }
        for offset in 2..<length where buffer[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }

    /// The string from `start` (after its opening quote) to `position` (after its closing
    /// quote), escapes resolved. The body was checked by `skipStringBody`.
    private mutating func unescape(from start: Int) throws(Malformed) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(position - start)
        var index = start
        let end = position - 1
        while index < end {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let code = bytes[index + 1]
            index += 2
            switch code {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(hexValue(at: index))
                index += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    // skipStringBody saw the escaped low surrogate that follows.
                    let low = UInt32(hexValue(at: index + 2))
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                    index += 6
                }
                guard let character = Unicode.Scalar(scalar) else {
                    throw Malformed(offset: index, reason: "lone surrogate")
                }
                output.append(contentsOf: UTF8.encode(character)!)
            default: output.append(code)  // " \ /
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func hexQuad() throws(Malformed) -> UInt16 {
        guard position + 4 <= bytes.count,
            (position..<(position + 4)).allSatisfy({ Self.hexDigit(bytes[$0]) != nil })
        else {
            throw malformed("expected four hex digits after \\u")
        }
        defer { position += 4 }
        return hexValue(at: position)
    }

    private func hexValue(at index: Int) -> UInt16 {
        (index..<(index + 4)).reduce(0) { $0 << 4 | UInt16(Self.hexDigit(bytes[$1]) ?? 0) }
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; returns where it starts.
    private mutating func numberRange() throws(Malformed) -> Int {
        skipWhitespace()
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        if position < bytes.count, bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw malformed("expected a number")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw malformed("expected digits after '.'") }
        }
        if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw malformed("expected digits in the exponent") }
        }
        return start
    }

    private mutating func digits() -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            position += 1
        }
        return position - start
    }
}
