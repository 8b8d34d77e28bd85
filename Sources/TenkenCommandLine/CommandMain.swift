import ArgumentParser
import TenkenCore
#if canImport(Glibc)
import Glibc
#endif

/// A command that cannot do its job (bad policy, missing root, collector refused): its message
/// on stderr, exit 2.
public struct CommandFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

extension Language: ExpressibleByArgument {}

extension ParsableCommand {
    /// Runs the parsed command. Usage errors exit 2 like any other "could not run": 1 stays
    /// reserved for non-compliance; an ExitCode thrown by a command is its verdict.
    public static func runAsMain(name: String) async -> Never {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            Glibc.exit(0)
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            // --help and --version end in a "clean" error that prints and exits 0.
            if exitCode(for: error) == .success { exit(withError: error) }
            FileDescriptorOutput.standardError.write(name + ": " + fullMessage(for: error) + "\n")
            Glibc.exit(2)
        }
    }
}
