import ArgumentParser
import TenkenCore
#if canImport(Glibc)
import Glibc
#endif

@main
struct Tenken: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenken",
        abstract: "Workstation compliance check for information-security contract clauses (点検).",
        version: TenkenVersion.current,
        subcommands: [CheckCommand.self, VerifyCommand.self, LedgerCommand.self, EnrollCommand.self, AgentCommand.self],
        defaultSubcommand: CheckCommand.self
    )

    /// Usage errors exit 2 like any other "could not run": 1 stays reserved for non-compliance.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)  // the verdict: 0, 1 or 2
        } catch {
            // --help and --version end in a "clean" error that prints and exits 0.
            if exitCode(for: error) == .success { exit(withError: error) }
            FileDescriptorOutput.standardError.write("tenken: " + fullMessage(for: error) + "\n")
            Glibc.exit(2)
        }
    }
}
