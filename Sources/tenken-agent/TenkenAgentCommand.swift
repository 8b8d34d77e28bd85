import ArgumentParser
import TenkenBase
import TenkenCommandLine
import TenkenScan

/// The agent side of tenken: enrollment, key rotation and the service. `tenken agent`, `tenken enroll`
/// and `tenken rotate-key`
/// run this program (see AgentProgram in tenken).
@main
struct TenkenAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenken",
        abstract: HelpText.pick(
            ja: "tenken の報告エージェント: コレクターに登録し、サービスとして点検・報告する。",
            en: "tenken's reporting agent: enroll with a collector, then check and report as a service."),
        version: TenkenVersion.current,
        subcommands: [EnrollCommand.self, RotateKeyCommand.self, AgentCommand.self]
    )

    static func main() async {
        await runAsMain(name: "tenken")
    }
}
