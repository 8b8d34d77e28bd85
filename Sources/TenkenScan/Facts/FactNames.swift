/// How program names are compared everywhere: lowercased last path component.
enum FactNames {
    /// The last path component, splitting on "/" and on the "\" of Windows paths Wine shows in
    /// argv[0]; a deleted executable's " (deleted)" suffix is dropped.
    static func baseName(_ path: String) -> String {
        let live = path.hasSuffix(" (deleted)") ? String(path.dropLast(10)) : path
        return String(live.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last ?? "").lowercased()
    }
}
