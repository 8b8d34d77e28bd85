/// Facts for the host controls: encryption of the system disks, authentication, screen lock,
/// sshd, log retention, firewall and privileged groups.
public struct HostControlFacts: Sendable {
    /// Whether a mounted file system sits on an encrypted device, and the device chain that shows it.
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

    /// GNOME's screen lock as the system dconf keyfiles leave it (GNOME's defaults otherwise), with the files
    /// that set it.
    public struct ScreenLock: Sendable {
        public var lockEnabled = true
        public var idleDelaySeconds = 300
        public var setIn: [String] = []
    }

    /// How long logs are kept: whether journald stores them on disk and for how long, and rsyslog's rotation.
    public struct LogRetention: Sendable {
        /// journald keeps logs on disk (Storage=persistent, or auto with /var/log/journal).
        public var journalPersistent = false
        /// MaxRetentionSec in seconds; 0 = no time limit.
        public var journalMaxRetention = 0
        /// Days rsyslog's files are kept by logrotate, when rsyslog is installed.
        public var rsyslogDays: Int?
    }
}
