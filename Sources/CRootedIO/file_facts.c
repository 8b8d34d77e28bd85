#define _GNU_SOURCE
#include "file_facts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>

int tenken_file_system_type(int fd, int64_t *type) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    *type = (int64_t)(unsigned long)info.f_type;
    return 0;
}

int tenken_birth_time_at(int directory_fd, const char *name, int64_t *seconds) {
    struct statx info;
    if (statx(directory_fd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_BTIME, &info) != 0) return -1;
    if (!(info.stx_mask & STATX_BTIME)) return 0;
    *seconds = info.stx_btime.tv_sec;
    return 1;
}
