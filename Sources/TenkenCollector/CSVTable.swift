/// CSV as Excel on a Japanese Windows PC opens it: UTF-8 with a byte order mark (without one
/// Excel reads Shift_JIS), CRLF, RFC 4180 quoting. Cells that a spreadsheet would run as a
/// formula (= + - @, tab, CR) get a leading apostrophe: hostnames and titles come from machines.
struct CSVTable {
    private(set) var text = "\u{FEFF}"

    init(header: [String]) {
        append(header)
    }

    mutating func append(_ cells: [String]) {
        text += cells.map(Self.cell).joined(separator: ",") + "\r\n"
    }

    static func cell(_ value: String) -> String {
        var value = value
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
}
