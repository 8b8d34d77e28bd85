/// sshd's effective settings: sshd_config and the files it includes.
enum SshdSource {
    /// Only where openssh-server is installed; otherwise the ssh rule does not apply.
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        if packages.contains("openssh-server") { controls.sshd = sshd(&reader) }
    }

    /// sshd takes the first value of each keyword, reading Include files where they stand
    /// (Debian's sshd_config starts with "Include /etc/ssh/sshd_config.d/*.conf"); Match blocks
    /// apply to some connections only and are not read.
    static func sshd(_ reader: inout ControlReader) -> [String: String] {
        var settings: [String: String] = [:]
        func read(_ path: String, depth: Int) {
            guard depth > 0, let bytes = reader.file(path, for: .sshd) else { return }
            for raw in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                let words = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" }).map(String.init)
                guard let keyword = words.first?.lowercased(), !keyword.hasPrefix("#"), words.count >= 2 else {
                    continue
                }
                if keyword == "match" { return }
                if keyword == "include" {
                    for pattern in words.dropFirst() {
                        let full = pattern.hasPrefix("/") ? pattern : "/etc/ssh/" + pattern
                        if full.hasSuffix("/*.conf") {
                            for file in reader.files(in: String(full.dropLast(7)), suffix: ".conf", for: .sshd) {
                                read(file, depth: depth - 1)
                            }
                        } else {
                            read(full, depth: depth - 1)
                        }
                    }
                    continue
                }
                if settings[keyword] == nil { settings[keyword] = words[1].lowercased() }
            }
        }
        read("/etc/ssh/sshd_config", depth: 4)
        return settings
    }
}
