import ArgumentParser
import TenkenBase
import TenkenCommandLine
import TenkenScan

#if canImport(Glibc)
    import Glibc
#endif

@main
struct Tenken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenken",
        abstract: HelpText.pick(
            ja: "情報セキュリティ特記仕様書に基づく端末の点検 (tenken)。",
            en: "Workstation compliance check for information-security contract clauses (点検)."),
        discussion: HelpText.pick(
            ja: """
                tenken enroll URL --token T [--ca FILE]   この端末をコレクターに登録する
                tenken rotate-key                          この端末の鍵を新しくする
                tenken agent [--once] ...                  コレクターへ報告するサービスとして動作する
                (いずれも tenken と同じ場所の tenken-agent が実行する。tenken agent --help を参照)
                """,
            en: """
                tenken enroll URL --token T [--ca FILE]   enroll this machine with a collector
                tenken rotate-key                          give this machine a new key
                tenken agent [--once] ...                  run as a service reporting to the collector
                (all run tenken-agent, installed beside tenken; see tenken agent --help)
                """),
        version: TenkenVersion.current,
        subcommands: [CheckCommand.self, VerifyCommand.self, LedgerCommand.self],
        defaultSubcommand: CheckCommand.self
    )

    static func main() {
        AgentProgram.forwardIfAsked()
        runAsMain(name: "tenken")
    }
}

/// `tenken agent`, `tenken enroll` and `tenken rotate-key` are served by tenken-agent, a program of its own: its
/// HTTPS client (NIO, BoringSSL) doubles the binary and would slow every `tenken check` by
/// several milliseconds at load time.
enum AgentProgram {
    static let commands: Set = ["agent", "enroll", "rotate-key"]

    static func forwardIfAsked() {
        let arguments = CommandLine.arguments
        guard arguments.count > 1, commands.contains(arguments[1]) else { return }
        let program = beside(name: "tenken-agent")
        // execv: the arguments go through as they are, never through a shell.
        let argv = ([program] + arguments.dropFirst()).map { strdup($0) } + [nil]
        execv(program, argv)
        // A program being written a moment ago (a build, an upgrade) is busy for that moment.
        for _ in 0..<20 where errno == ETXTBSY {
            usleep(50_000)
            execv(program, argv)
        }
        FileDescriptorOutput.standardError.write("tenken: cannot run \(program): \(String(cString: strerror(errno)))\n")
        exit(2)
    }

    /// The program installed in the same directory as this one.
    static func beside(name: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "/usr/bin/" + name }
        let path = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) + "/" + name
    }
}
