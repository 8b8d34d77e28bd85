/// The header of an archive's InRelease or Release file: which suite a list belongs to and the
/// flags that set apt's default pin priority.
public struct AptRelease: Sendable, Hashable {
    public var origin = ""
    public var label = ""
    public var suite = ""
    public var codename = ""
    /// The release's version number ("12.8"), which `Pin: release v=` matches.
    public var version = ""
    public var notAutomatic = false
    public var butAutomaticUpgrades = false

    public init() {}

    init(_ text: String) {
        // InRelease is clearsigned: the header starts after the armor's blank line.
        var body = Substring(text)
        if body.hasPrefix("-----BEGIN PGP SIGNED MESSAGE-----"), let blank = body.firstRange(of: "\n\n") {
            body = body[blank.upperBound...]
        }
        guard let fields = Deb822Fields.paragraphs(String(body)).first else { return }
        origin = fields["Origin"] ?? ""
        label = fields["Label"] ?? ""
        suite = fields["Suite"] ?? ""
        codename = fields["Codename"] ?? ""
        version = fields["Version"] ?? ""
        notAutomatic = fields["NotAutomatic"]?.lowercased() == "yes"
        butAutomaticUpgrades = fields["ButAutomaticUpgrades"]?.lowercased() == "yes"
    }

    /// Debian's and Ubuntu's security archives: "bookworm-security", "jammy-security".
    public var isSecurity: Bool {
        suite.hasSuffix("-security") || codename.hasSuffix("-security") || label == "Debian-Security"
    }

    /// apt's default pin priority without preferences: 1 for NotAutomatic archives
    /// (experimental), 100 if they still get upgrades (backports), else 500.
    public var defaultPriority: Int {
        guard notAutomatic else { return 500 }
        return butAutomaticUpgrades ? 100 : 1
    }

    /// How apt names the archive in `apt list`: the suite, or the codename without one.
    public var name: String { suite.isEmpty ? codename : suite }
}
