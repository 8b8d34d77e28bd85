/// Text made safe to print on a terminal: file names, USB product strings and host names are
/// chosen by whoever controls the machine, and a raw escape sequence, carriage return or newline
/// in one could rewrite or hide lines of the report. Control characters (C0, DEL, C1) and the
/// bidirectional overrides are shown as escapes, as the JSON form escapes them.
public enum TerminalText {
    public static func escaped(_ text: String) -> String {
        // Printable ASCII (most text, read as bytes): nothing to escape.
        let printable = text.utf8.withContiguousStorageIfAvailable { bytes in
            bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        }
        if printable == true { return text }
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                result.unicodeScalars.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            result += scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{" + hex + "}"
        }
        return result
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        // LRE, RLE, PDF, LRO, RLO and the isolates reorder what follows; the direction marks
        // (LRM, RLM, ALM) too; the line and paragraph separators break lines like a newline.
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029: return true
        default: return false
        }
    }
}
