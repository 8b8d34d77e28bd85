/// Which firewall is enabled at boot: nftables (with an input hook), ufw or firewalld.
enum FirewallSource {
    static func collect(_ reader: inout ControlReader, packages: Set<String>, into controls: inout HostControlFacts) {
        controls.firewalls = firewalls(&reader, packages: packages)
    }

    /// The firewalls enabled at boot with rules that filter incoming traffic.
    static func firewalls(_ reader: inout ControlReader, packages: Set<String>) -> [String] {
        var found: [String] = []
        if packages.contains("nftables"),
            reader.linkExists("/etc/systemd/system/sysinit.target.wants/nftables.service", for: .firewall),
            let rules = reader.file("/etc/nftables.conf", for: .firewall),
            String(decoding: rules, as: UTF8.self).contains("hook input")
        {
            found.append("nftables")
        }
        if packages.contains("ufw"),
            reader.ini("/etc/ufw/ufw.conf", for: .firewall)["", "ENABLED"]?.lowercased() == "yes"
        {
            found.append("ufw")
        }
        if packages.contains("firewalld"),
            reader.linkExists("/etc/systemd/system/multi-user.target.wants/firewalld.service", for: .firewall)
        {
            found.append("firewalld")
        }
        return found
    }
}
