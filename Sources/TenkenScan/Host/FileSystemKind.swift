import CRootedIO

/// What kind of file system holds a directory, by its statfs magic (linux/magic.h): a walk of
/// every file system skips the kernel's pseudo file systems, where no file is stored, and walks
/// network ones only as its policy says, within a time bound.
enum FileSystemKind: Sendable, Hashable {
    /// Files are stored here (ext4, btrfs, xfs, vfat, tmpfs, overlay, iso9660, squashfs, ...).
    case local
    /// Another machine (or a user-space program) answers: NFS, SMB, Ceph, 9P, AFS, FUSE.
    case network
    /// The kernel's own views (proc, sysfs, cgroup, ...), or autofs, whose reading would mount.
    case pseudo

    /// The kind and the name shown in coverage, of the file system holding the open `fd`; nil
    /// when it cannot be asked (an error the walk reports).
    static func of(_ fd: Int32) -> (kind: FileSystemKind, name: String)? {
        var type: Int64 = 0
        guard tenken_file_system_type(fd, &type) == 0 else { return nil }
        let magic = UInt32(truncatingIfNeeded: type)
        if let name = pseudoNames[magic] { return (.pseudo, name) }
        if let name = networkNames[magic] { return (.network, name) }
        return (.local, localNames[magic] ?? "0x" + String(magic, radix: 16))
    }

    private static let pseudoNames: [UInt32: String] = [
        0x9fa0: "proc", 0x6265_6572: "sysfs", 0x1cd1: "devpts", 0x27e0eb: "cgroup", 0x6367_7270: "cgroup2",
        0x7363_6673: "securityfs", 0x6462_6720: "debugfs", 0x7472_6163: "tracefs", 0x6265_6570: "configfs",
        0xcafe_4a11: "bpf", 0x6165_676c: "pstore", 0xde5e_81e4: "efivarfs", 0x1980_0202: "mqueue",
        0x9584_58f6: "hugetlbfs", 0x4249_4e4d: "binfmt_misc", 0x6573_5543: "fusectl", 0x6e73_6673: "nsfs",
        0xf97c_ff8c: "selinuxfs", 0x4341_5d53: "smackfs", 0x0187: "autofs", 0x6759_6969: "rpc_pipefs",
        0x534f_434b: "sockfs", 0x5049_5045: "pipefs", 0x0904_1934: "anon_inode",
    ]

    private static let networkNames: [UInt32: String] = [
        0x6969: "nfs", 0x517b: "smb", 0xff53_4d42: "cifs", 0xfe53_4d42: "smb2", 0x00c3_6400: "ceph",
        0x0102_1997: "9p", 0x5346_414f: "afs", 0x6b41_4653: "afs", 0x7375_7245: "coda", 0x6573_5546: "fuse",
        0x0bd0_0bd0: "lustre", 0x4700_0000: "gpfs",
    ]

    private static let localNames: [UInt32: String] = [
        0xef53: "ext4", 0x9123_683e: "btrfs", 0x5846_5342: "xfs", 0x0102_1994: "tmpfs", 0x794c_7630: "overlay",
        0x4d44: "vfat", 0x2011_bab0: "exfat", 0x5346_544e: "ntfs", 0x7366_746e: "ntfs3", 0x9660: "iso9660",
        0x7371_7368: "squashfs", 0x1573_3d07: "udf", 0x2fc1_2fc1: "zfs", 0xf2f5_2010: "f2fs",
        0x858_458f6: "ramfs", 0x3153_464a: "jfs", 0x5265_4973: "reiserfs", 0xe0f5_e1e2: "erofs",
        0xf15f: "ecryptfs", 0x3434: "nilfs",
    ]
}
