#define _GNU_SOURCE
#include "socket_diag.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#if defined(__linux__)
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#endif

long tenken_socket_diag(uint8_t family, uint8_t protocol, uint32_t states, struct tenken_socket **out) {
#if defined(__linux__)
    *out = NULL;
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;

    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message;
    memset(&message, 0, sizeof message);
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    message.header.nlmsg_seq = 1;
    message.request.sdiag_family = family;
    message.request.sdiag_protocol = protocol;
    message.request.idiag_states = states;

    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        int saved = errno; close(fd); errno = saved; return -1;
    }

    size_t count = 0, capacity = 64;
    struct tenken_socket *sockets = malloc(capacity * sizeof *sockets);
    if (!sockets) { close(fd); errno = ENOMEM; return -1; }
    long buffer[8192 / sizeof(long)];
    for (;;) {
        ssize_t received = recv(fd, buffer, sizeof buffer, 0);
        if (received < 0) {
            if (errno == EINTR) continue;
            int saved = errno; free(sockets); close(fd); errno = saved; return -1;
        }
        if (received == 0) break;
        struct nlmsghdr *header = (struct nlmsghdr *)buffer;
        for (; NLMSG_OK(header, (size_t)received); header = NLMSG_NEXT(header, received)) {
            if (header->nlmsg_type == NLMSG_DONE) goto done;
            if (header->nlmsg_type == NLMSG_ERROR) {
                int error = EPROTO;
                if (header->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
                    struct nlmsgerr *failure = NLMSG_DATA(header);
                    if (failure->error < 0) error = -failure->error;
                }
                free(sockets); close(fd);
                errno = error;
                return -1;
            }
            if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY || header->nlmsg_len < NLMSG_LENGTH(sizeof(struct inet_diag_msg))) continue;
            struct inet_diag_msg *diag = NLMSG_DATA(header);
            if (count == capacity) {
                capacity *= 2;
                struct tenken_socket *grown = realloc(sockets, capacity * sizeof *sockets);
                if (!grown) { free(sockets); close(fd); errno = ENOMEM; return -1; }
                sockets = grown;
            }
            struct tenken_socket *socket = &sockets[count++];
            memset(socket, 0, sizeof *socket);
            socket->family = diag->idiag_family;
            socket->protocol = protocol;
            socket->state = diag->idiag_state;
            socket->local_port = ntohs(diag->id.idiag_sport);
            socket->remote_port = ntohs(diag->id.idiag_dport);
            memcpy(socket->local_address, diag->id.idiag_src, diag->idiag_family == AF_INET ? 4 : 16);
            socket->uid = diag->idiag_uid;
            socket->inode = diag->idiag_inode;
        }
    }
done:
    close(fd);
    *out = sockets;
    return (long)count;
#else
    (void)family; (void)protocol; (void)states; *out = NULL;
    errno = ENOSYS;
    return -1;
#endif
}
