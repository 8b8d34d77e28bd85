/// A Debian package version, ordered exactly as dpkg orders them (deb-version(7)):
/// epoch numerically, then upstream version and Debian revision by dpkg's verrevcmp, where
/// "~" sorts before everything, even the end of the string, and letters before other symbols.
public struct DebianVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public let epoch: Int
    private let upstream: [UInt8]
    private let revision: [UInt8]

    public init(_ text: String) {
        self.text = text
        var bytes = Array(text.utf8)[...]
        if let colon = bytes.firstIndex(of: 0x3A), !bytes[..<colon].isEmpty, bytes[..<colon].count <= 9,
            bytes[..<colon].allSatisfy({ (0x30...0x39).contains($0) }),
            let epoch = Int(String(decoding: bytes[..<colon], as: UTF8.self))
        {
            self.epoch = epoch
            bytes = bytes[(colon + 1)...]
        } else {
            epoch = 0
        }
        if let hyphen = bytes.lastIndex(of: 0x2D) {
            upstream = Array(bytes[..<hyphen])
            revision = Array(bytes[(hyphen + 1)...])
        } else {
            upstream = Array(bytes)
            revision = []
        }
    }

    public var description: String { text }

    public static func == (lhs: DebianVersion, rhs: DebianVersion) -> Bool { compare(lhs, rhs) == 0 }
    public static func < (lhs: DebianVersion, rhs: DebianVersion) -> Bool { compare(lhs, rhs) < 0 }
    /// Equal versions can be spelt differently ("1.0", "1.00", "0:1.0"): hash only what they share.
    public func hash(into hasher: inout Hasher) { hasher.combine(epoch) }

    /// Negative, zero or positive, like `dpkg --compare-versions`.
    public static func compare(_ lhs: DebianVersion, _ rhs: DebianVersion) -> Int {
        if lhs.epoch != rhs.epoch { return lhs.epoch < rhs.epoch ? -1 : 1 }
        let upstream = verrevcmp(lhs.upstream, rhs.upstream)
        return upstream != 0 ? upstream : verrevcmp(lhs.revision, rhs.revision)
    }

    /// Sort weight of a non-digit: "~" lowest, the end of the string next, then letters, then
    /// everything else.
    private static func order(_ byte: UInt8?) -> Int {
        guard let byte else { return 0 }
        switch byte {
        case 0x30...0x39: return 0
        case 0x41...0x5A, 0x61...0x7A: return Int(byte)
        case 0x7E: return -1
        default: return Int(byte) + 256
        }
    }

    private static func isDigit(_ byte: UInt8?) -> Bool { byte.map { (0x30...0x39).contains($0) } ?? false }

    private static func verrevcmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0
        var j = 0
        func at(_ bytes: [UInt8], _ index: Int) -> UInt8? { index < bytes.count ? bytes[index] : nil }
        while i < a.count || j < b.count {
            var firstDifference = 0
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let left = order(isDigit(at(a, i)) ? nil : at(a, i))
                let right = order(isDigit(at(b, j)) ? nil : at(b, j))
                if left != right { return left - right }
                i += 1
                j += 1
            }
            while at(a, i) == 0x30 { i += 1 }
            while at(b, j) == 0x30 { j += 1 }
            while isDigit(at(a, i)) && isDigit(at(b, j)) {
                if firstDifference == 0 { firstDifference = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if isDigit(at(a, i)) { return 1 }
            if isDigit(at(b, j)) { return -1 }
            if firstDifference != 0 { return firstDifference }
        }
        return 0
    }
}
