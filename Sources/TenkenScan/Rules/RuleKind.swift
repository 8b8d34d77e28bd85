import TenkenBase

/// The checks tenken knows, by family. Each is declarative: parameters only, nothing that runs
/// a command. A family's kinds, parameters, fact request and evaluation live in its own file.
public enum RuleKind: Sendable, Hashable {
    /// Forbidden and required software (catalog categories).
    case software(SoftwareRule)
    /// Pending updates, package lists, reboot, automatic updates.
    case patches(PatchRule)
    /// Antivirus pattern age.
    case antivirus(AntivirusRule)
    /// The PC and its media against the ledger, phones and Bluetooth.
    case devices(DeviceRule)
    /// Disk encryption, authentication, screen lock, sshd, logs, firewall, privileged users.
    case hostControls(HostControlRule)

    /// The families, one per case above. `family` and `type` are exhaustive switches, so a new
    /// case does not compile until it is listed here too and kinds of it can be read by name.
    enum Family: CaseIterable {
        case software, patches, antivirus, devices, hostControls

        var type: any RuleFamily.Type {
            switch self {
            case .software: return SoftwareRule.self
            case .patches: return PatchRule.self
            case .antivirus: return AntivirusRule.self
            case .devices: return DeviceRule.self
            case .hostControls: return HostControlRule.self
            }
        }
    }

    /// Which family this kind belongs to.
    var familyCase: Family {
        switch self {
        case .software: return .software
        case .patches: return .patches
        case .antivirus: return .antivirus
        case .devices: return .devices
        case .hostControls: return .hostControls
        }
    }

    /// Every family's type, for reading kinds by name.
    static let families: [any RuleFamily.Type] = Family.allCases.map(\.type)

    var family: any RuleFamily {
        switch self {
        case .software(let kind): return kind
        case .patches(let kind): return kind
        case .antivirus(let kind): return kind
        case .devices(let kind): return kind
        case .hostControls(let kind): return kind
        }
    }

    /// The kind's name as policies write it.
    public var name: String { family.nameText }

    /// Catalog categories the rule refers to (checked when the policy loads).
    public var categories: [String] { family.categories }

    /// Every kind name with the parameter keys it takes.
    static let parameters: [String: Set<String>] = families.reduce(into: [:]) { all, family in
        all.merge(family.parametersByName) { first, _ in first }
    }

    /// Reads the kind called `name`; nil when no family has it.
    static func named(_ name: String, from yaml: YAMLObject) throws(PolicyError) -> RuleKind? {
        for family in families {
            if let kind = try family.kind(named: name, from: yaml) { return kind }
        }
        return nil
    }
}
