import ArgumentParser
import TenkenCollector
import TenkenCommandLine

/// `--database`, shared by every command that opens the database.
struct DatabaseOption: ParsableArguments {
    @Option(
        name: .long,
        help: .text(
            ja: "SQLite データベース。",
            en: "SQLite database.")) var database = "/var/lib/tenken-collector/collector.sqlite"

    func store() throws -> SQLiteReportStore { try SQLiteReportStore(path: database) }
}
