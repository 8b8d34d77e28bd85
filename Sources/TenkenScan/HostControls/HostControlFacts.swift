/// Facts for the host controls: encryption of the system disks, authentication, screen lock,
/// sshd, log retention, firewall and privileged groups.
public struct HostControlFacts: Sendable {
    public struct MountEncryption: Sendable, Hashable {
        public let mountPoint: String
        public let device: String
        /// The block devices from the mount's device down to the disk, e.g. dm-1 (LVM) → dm-0 (LUKS) → nvme0n1p3.
        public let chain: [String]
        public let encrypted: Bool
    }

    /// nil when the mounts are not this host's (scanning an image with --root).
    public var mounts: [MountEncryption]?
    public var emptyPasswordAccounts: [String] = []
    /// Whether /etc/shadow could be read (it is root-only).
    public var shadowReadable = false
    /// "gdm3: alice", "lightdm: bob": display managers set to log a user in without a password.
    public var autologins: [String] = []
    public var privilegedMembers: [String: [String]] = [:]
    /// GNOME settings from the system dconf databases; nil when GNOME is not installed.
    public var screenLock: ScreenLock?
    /// Effective sshd settings; nil when openssh-server is not installed.
    public var sshd: [String: String]?
    public var logRetention = LogRetention()
    /// What enables a firewall at boot: "nftables", "ufw", "firewalld".
    public var firewalls: [String] = []

    public struct ScreenLock: Sendable {
        public var lockEnabled = true
        public var idleDelaySeconds = 300
        public var setIn: [String] = []
    }

    public struct LogRetention: Sendable {
        /// journald keeps logs on disk (Storage=persistent, or auto with /var/log/journal).
        public var journalPersistent = false
        /// MaxRetentionSec in seconds; 0 = no time limit.
        public var journalMaxRetention = 0
        /// Days rsyslog's files are kept by logrotate, when rsyslog is installed.
        public var rsyslogDays: Int?
    }
}
