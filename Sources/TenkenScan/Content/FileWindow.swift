import CSquashFS
import TenkenBase

#if canImport(Glibc)
    import Glibc
#endif

/// Bounded positioned reads of one open file: what the content readers (ELF, PE, SquashFS) use
/// so that no header field, however hostile, makes them read past the file or more than they allow.
struct FileWindow {
    /// Where the bytes come from: an open file, or a file inside an AppImage's SquashFS image.
    enum Backing {
        case descriptor(Int32)
        /// The image and the file's handle, valid while the image is walked.
        case squashfs(OpaquePointer, UnsafeRawPointer)
    }

    let backing: Backing
    let size: Int
    /// The display path, for errors.
    let path: String

    init(fd: Int32, size: Int, path: String) {
        backing = .descriptor(fd)
        self.size = size
        self.path = path
    }

    init(image: OpaquePointer, file: UnsafeRawPointer, size: Int, path: String) {
        backing = .squashfs(image, file)
        self.size = size
        self.path = path
    }

    /// The open file, for a reader that needs the descriptor itself (libsquashfs); nil inside an image.
    var descriptor: Int32? {
        if case .descriptor(let fd) = backing { return fd }
        return nil
    }

    /// `count` bytes at `offset`; a range outside the file, or a read that comes back short, is damage.
    func bytes(at offset: Int, count: Int) throws(HostReadError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw HostReadError(path: path, reason: .refused(Self.outside))
        }
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(HostReadError) in try fill(buffer, at: offset) }
        }
        let read = try result.get()
        guard read == count else { throw HostReadError(path: path, reason: .refused(Self.outside)) }
        return bytes
    }

    static let outside = Localized(
        ja: "ヘッダーがファイルの外を指しています (壊れたファイル)", en: "a header points outside the file (a damaged file)")

    /// Reads into `buffer` from `offset` until it is full or the file ends; returns the count read.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(HostReadError) -> Int {
        var done = 0
        while done < buffer.count {
            let count: Int
            switch backing {
            case .descriptor(let fd):
                count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw HostReadError(path: path, errno: errno)
                }
            case .squashfs(let image, let file):
                let wanted = UInt32(min(buffer.count - done, 1 << 30))
                let read = tenken_squashfs_read(image, file, UInt64(offset + done), buffer.baseAddress! + done, wanted)
                guard read >= 0 else { throw AppImageReader.damaged(path, code: read) }
                count = Int(read)
            }
            if count == 0 { break }
            done += count
        }
        return done
    }
}

/// Integers of a file's own byte order, read from a buffer with bounds checked.
struct ByteFields {
    let bytes: [UInt8]
    let bigEndian: Bool

    func integer(at offset: Int, size: Int) -> UInt64? {
        guard offset >= 0, size <= 8, offset <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for index in 0..<size {
            let byte = UInt64(bytes[offset + (bigEndian ? index : size - 1 - index)])
            value = value << 8 | byte
        }
        return value
    }

    /// An integer that must fit an Int (offsets and sizes), nil if it does not.
    func count(at offset: Int, size: Int) -> Int? {
        integer(at: offset, size: size).flatMap { $0 <= UInt64(Int.max) ? Int($0) : nil }
    }
}
