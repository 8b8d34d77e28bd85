#define _GNU_SOURCE
#include "rooted_io.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__linux__)
#include <linux/openat2.h>
#endif

int tenken_open_in_root(int root_fd, const char *path, int flags, int allow_unconfined) {
    while (*path == '/') path++;
    if (*path == '\0') path = ".";
#if defined(__linux__) && defined(SYS_openat2)
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd;
    do {
        fd = (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
    if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) return fd;
#endif
    if (!allow_unconfined) { errno = EXDEV; return -1; }
    return openat(root_fd, path, flags | O_CLOEXEC);
}

int tenken_open_root(const char *path) {
    return open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int tenken_exists_in_root(int root_fd, const char *path, int allow_unconfined) {
    int fd = tenken_open_in_root(root_fd, path, O_PATH, allow_unconfined);
    if (fd < 0) return 0;
    close(fd);
    return 1;
}
