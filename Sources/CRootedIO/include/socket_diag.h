#ifndef TENKEN_SOCKET_DIAG_H
#define TENKEN_SOCKET_DIAG_H

#include <stdint.h>
#include <stddef.h>

/// One socket as the kernel's sock_diag reports it. Addresses are in network byte order.
struct tenken_socket {
    uint8_t family;      // AF_INET or AF_INET6
    uint8_t protocol;    // IPPROTO_TCP or IPPROTO_UDP
    uint8_t state;       // TCP state number (10 = LISTEN, 7 = CLOSE for unconnected UDP)
    uint16_t local_port;
    uint16_t remote_port;
    uint8_t local_address[16];
    uint32_t uid;
    uint64_t inode;
};

/// Lists the sockets of one family and protocol whose state is in `states` (a bit mask of
/// 1 << state) through NETLINK_SOCK_DIAG, the interface `ss` uses: far cheaper than reading
/// /proc/net/tcp, which walks the whole connection table. On success returns the count and
/// sets *out to a malloc'd array the caller frees; on failure returns -1 with errno set.
long tenken_socket_diag(uint8_t family, uint8_t protocol, uint32_t states, struct tenken_socket **out);

#endif
