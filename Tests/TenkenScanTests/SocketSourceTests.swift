import Foundation
import TenkenTestSupport
import Testing

@testable import TenkenBase
@testable import TenkenScan

@Suite("listening sockets")
struct SocketSourceTests {
    @Test("addresses decode as the kernel writes them")
    func endpoints() throws {
        #expect(SocketSource.endpoint("0100007F:0016")! == ("127.0.0.1", 22))
        #expect(SocketSource.endpoint("00000000:1AE1")! == ("0.0.0.0", 6881))
        #expect(SocketSource.endpoint("00000000000000000000000001000000:0016")! == ("::1", 22))
        #expect(SocketSource.endpoint("00000000000000000000000000000000:1732")! == ("::", 5938))
        #expect(SocketSource.endpoint("0000000000000000FFFF00000100007F:0050")! == ("::ffff:127.0.0.1", 80))
        #expect(SocketSource.endpoint("B80D0120000000000000000001000000:01BB")! == ("2001:db8::1", 443))
        #expect(SocketSource.endpoint("zz:1") == nil)
        #expect(SocketSource.endpoint("0100007F") == nil)
        #expect(SocketSource.endpoint("0100007F:FFFFF") == nil)
    }

    @Test("fixture tables: LISTEN and bound UDP only, established connections left out")
    func fixtureTables() throws {
        let facts = HostFacts.collect(from: try Fixture.root("debian-clean"))
        let endpoints = facts.listeningSockets.map(\.endpoint).sorted()
        #expect(endpoints == ["tcp 0.0.0.0:22", "tcp [::]:22", "udp 0.0.0.0:68"])
        #expect(facts.issues.filter { $0.source == .sockets }.isEmpty)
    }

    @Test("unparsable lines are an error issue, the good lines still count")
    func damagedTable() throws {
        let scratch = try Fixture.copy("debian-clean")
        var table = try scratch.read("proc/net/tcp")
        table += Array("   9: 0100007F:ZZZZ 00000000:0000 0A 0 0 0 0 0 0\ngarbage\n".utf8)
        try scratch.write("proc/net/tcp", table)
        let facts = HostFacts.collect(from: try HostRoot(scratch.path))
        #expect(facts.listeningSockets.contains { $0.port == 22 })
        let issue = try #require(facts.issues.first { $0.source == .sockets })
        #expect(issue.level == .error)
        #expect(issue.message.en.contains("2 unparsable lines"))
    }

    @Test("netlink sock_diag and /proc/net/tcp agree on a real loopback listener")
    func netlinkMatchesProcNet() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(bound == 0)
        #expect(listen(listener, 4) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)

        let fromKernel = try SocketSource.kernelSockets("/proc/net/tcp")
        let procBytes = Array(try Data(contentsOf: URL(filePath: "/proc/net/tcp")))
        let fromFile = SocketSource.parse(procBytes, transport: .tcp, listeningState: "0A").0
        let ours = try #require(fromKernel.first { $0.port == port })
        #expect(ours.address == "127.0.0.1")
        #expect(fromFile.contains(ours))
        #expect(Set(fromKernel) == Set(fromFile))

        // The process scan finds this test process as the socket's holder.
        let facts = HostFacts.collect(from: try HostRoot("/"), request: HostFacts.Request(allSocketOwners: true))
        let seen = try #require(facts.listeningSockets.first { $0.inode == ours.inode })
        #expect(seen.pids.contains(getpid()))
    }
}
