/// The fact sources, one per kind of host fact; each has exactly one declaration in
/// `FactSourceRegistry` (the switch there is exhaustive, so a new case needs one). Within a
/// stage, sources are read in this order. The host controls have one source per rule family
/// they serve, so an unreadable sshd configuration stops only the sshd rule.
public enum FactSource: String, Sendable, Codable, CaseIterable {
    /// /var/lib/dpkg/status.
    case dpkg
    /// /var/lib/snapd/snaps.
    case snap
    /// Host name, machine-id, DMI serial, os-release, user names.
    case identity
    /// Home directories and the program files under them and the program directories.
    case files
    /// System and per-user Flatpak installations (needs the home directories).
    case flatpak
    /// /proc/net listening sockets.
    case sockets
    /// /proc processes, and the owners of the sockets a rule asks about.
    case processes
    /// Install paths a catalog names (`~/` ones in every home).
    case paths
    /// What the programs no package owns (or whose content dpkg did not install) are made of:
    /// ELF dynamic sections and protocol signatures.
    case content
    /// ClamAV's databases and freshclam's log.
    case antivirus
    /// USB devices in sysfs, Bluetooth pairings, USB connections in the journal.
    case devices
    /// /proc/self/mountinfo and the block devices below / and /home.
    case disks
    /// /etc/shadow and the display managers' autologin settings.
    case accounts
    /// /etc/group (the privileged groups' members).
    case groups
    /// GNOME's system dconf databases.
    case desktop
    /// sshd_config and what it includes.
    case sshd
    /// journald.conf and rsyslog's logrotate settings.
    case logs
    /// nftables, ufw and firewalld settings.
    case firewall
    /// The release (os-release, debian_version, lsb-release, base-files) and its support dates
    /// (distro-info), with the extended-support archives configured.
    case release
    /// apt's lists, configuration, history and reboot flags (needs the installed packages).
    case apt
}
