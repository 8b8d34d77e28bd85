/// base64url without padding (RFC 4648 §5), as JOSE uses it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Digit value by byte; 0xFF for bytes outside the alphabet. A table, not a dictionary:
    /// the collector decodes every report it receives.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, digit) in alphabet.enumerated() { table[Int(digit)] = UInt8(value) }
        return table
    }()

    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            output.append(alphabet[Int(first >> 2)])
            output.append(alphabet[Int((first & 0x03) << 4 | (second ?? 0) >> 4)])
            if let second { output.append(alphabet[Int((second & 0x0F) << 2 | (third ?? 0) >> 6)]) }
            if let third { output.append(alphabet[Int(third & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// nil for characters outside the alphabet, padding, or an impossible length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(bytes: Array(text.utf8)[...])
    }

    public static func decode(bytes digits: ArraySlice<UInt8>) -> [UInt8]? {
        guard digits.count % 4 != 1 else { return nil }
        let table = values
        return digits.withUnsafeBufferPointer { input -> [UInt8]? in
            let whole = input.count / 4 * 4
            let outputCount = whole / 4 * 3 + max(0, input.count - whole - 1)
            var valid = true
            let output = [UInt8](unsafeUninitializedCapacity: outputCount) { output, count in
                var read = 0
                var written = 0
                // Four digits make three bytes; any digit outside the alphabet has the 0x40 bit set.
                while read < whole {
                    let a = table[Int(input[read])]
                    let b = table[Int(input[read + 1])]
                    let c = table[Int(input[read + 2])]
                    let d = table[Int(input[read + 3])]
                    guard (a | b | c | d) & 0xC0 == 0 else {
                        valid = false
                        break
                    }
                    let group = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    output[written] = UInt8(truncatingIfNeeded: group >> 16)
                    output[written + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    output[written + 2] = UInt8(truncatingIfNeeded: group)
                    read += 4
                    written += 3
                }
                // Two or three digits left: one or two bytes, and the unused low bits must be
                // zero, or two encodings would decode to the same bytes.
                let rest = input.count - whole
                if valid && rest > 0 {
                    var group: UInt32 = 0
                    for index in whole..<input.count {
                        let value = table[Int(input[index])]
                        guard value & 0xC0 == 0 else {
                            valid = false
                            break
                        }
                        group = group << 6 | UInt32(value)
                    }
                    let unused = UInt32(rest * 6 % 8)
                    if valid && group & ((1 << unused) - 1) == 0 {
                        group >>= unused
                        for index in 0..<(rest - 1) {
                            output[written + index] = UInt8(truncatingIfNeeded: group >> UInt32(8 * (rest - 2 - index)))
                        }
                        written += rest - 1
                    } else {
                        valid = false
                    }
                }
                count = valid ? written : 0
            }
            return valid ? output : nil
        }
    }
}
