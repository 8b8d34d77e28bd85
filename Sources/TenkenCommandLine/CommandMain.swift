import ArgumentParser
import TenkenBase

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
    /// reserved for non-compliance; an ExitCode thrown by a command is its verdict. Synchronous,
    /// so `tenken check` does not start the concurrency runtime it does not use.
    public static func runAsMain(name: String) -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(0)
        } catch {
            exit(after: error, name: name)
        }
    }

    static func exit(after error: any Error, name: String) -> Never {
        if let code = error as? ExitCode { Glibc.exit(code.rawValue) }
        // --help and --version end in a "clean" error that prints and exits 0.
        if exitCode(for: error) == .success { exit(withError: error) }
        // A failure may quote what the machine said (a USB product string, a file name).
        // argument-parser's messages span lines (the usage), so each line is escaped on its own.
        let lines = fullMessage(for: error).split(separator: "\n", omittingEmptySubsequences: false)
        let message = lines.map { TerminalText.escaped(String($0)) }.joined(separator: "\n")
        FileDescriptorOutput.standardError.write(name + ": " + message + "\n")
        Glibc.exit(2)
    }
}

extension AsyncParsableCommand {
    /// `runAsMain` for programs with asynchronous commands (the agent, the collector).
    public static func runAsMain(name: String) async -> Never {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
            Glibc.exit(0)
        } catch {
            exit(after: error, name: name)
        }
    }
}
