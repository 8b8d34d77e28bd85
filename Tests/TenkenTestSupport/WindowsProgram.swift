import Foundation

/// Real Windows programs (PE) for tests, built with binutils-mingw-w64's windres and ld: a stub
/// whose version resource holds the strings given, as a vendor's build would.
public enum WindowsProgram {
    public static let windres = "/usr/bin/x86_64-w64-mingw32-windres"
    public static let linker = "/usr/bin/x86_64-w64-mingw32-ld"

    /// The tools this needs: windres, ld and a C preprocessor (clang on the PATH, as Swift ships it).
    public static var available: Bool {
        FileManager.default.isExecutableFile(atPath: windres) && FileManager.default.isExecutableFile(atPath: linker)
            && preprocessor != nil
    }

    static let preprocessor = Programs.clang

    /// The bytes of a PE executable whose StringFileInfo holds `strings` (name, value).
    public static func build(_ strings: [(String, String)]) throws -> [UInt8] {
        let scratch = try ScratchTree()
        let values = strings.map { "      VALUE \"\($0.0)\", \"\($0.1)\\0\"" }.joined(separator: "\n")
        try scratch.write(
            "version.rc",
            """
            1 VERSIONINFO
            FILEVERSION 1,0,0,0
            PRODUCTVERSION 1,0,0,0
            BEGIN
              BLOCK "StringFileInfo"
              BEGIN
                BLOCK "041104b0"
                BEGIN
            \(values)
                END
              END
              BLOCK "VarFileInfo"
              BEGIN
                VALUE "Translation", 0x411, 1200
              END
            END

            """)
        guard let preprocessor else { throw DebianArchive.Failure("no clang to preprocess the resource script") }
        let compiled = try run([
            windres, "--preprocessor=" + preprocessor, "--preprocessor-arg=-E", "--preprocessor-arg=-xc",
            "--preprocessor-arg=-P", scratch.path + "/version.rc", "-O", "coff", "-o", scratch.path + "/version.o",
        ])
        guard compiled.status == 0 else { throw DebianArchive.Failure("windres failed: \(compiled.error)") }
        let linked = try run([linker, "--entry=0", "-o", scratch.path + "/program.exe", scratch.path + "/version.o"])
        guard linked.status == 0 else { throw DebianArchive.Failure("ld failed: \(linked.error)") }
        return try scratch.read("program.exe")
    }
}
