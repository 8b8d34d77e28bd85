#define _GNU_SOURCE
#include "change_journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>

const uint64_t tenken_journal_events = FAN_MODIFY | FAN_ATTRIB | FAN_CLOSE_WRITE | FAN_MOVED_FROM | FAN_MOVED_TO
    | FAN_CREATE | FAN_DELETE | FAN_DELETE_SELF | FAN_MOVE_SELF | FAN_ONDIR;
const uint64_t tenken_journal_overflow = FAN_Q_OVERFLOW;
const uint64_t tenken_journal_on_directory = FAN_ONDIR;

int tenken_journal_open(void) {
    return fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_REPORT_DFID_NAME | FAN_CLOEXEC | FAN_NONBLOCK,
                         O_RDONLY | O_CLOEXEC);
}

int tenken_journal_mark(int journal, int fd) {
    return fanotify_mark(journal, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, tenken_journal_events, fd, NULL);
}

int tenken_file_system_id(int fd, uint8_t out[8]) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return -1;
    memcpy(out, &info.f_fsid, 8);
    return 0;
}

int tenken_file_handle(int fd, uint8_t *out, int capacity) { return tenken_file_handle_at(fd, "", out, capacity); }

int tenken_file_handle_at(int directory_fd, const char *name, uint8_t *out, int capacity) {
    union {
        struct file_handle handle;
        uint8_t space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    } buffer;
    buffer.handle.handle_bytes = MAX_HANDLE_SZ;
    int mount_id;
    int flags = name[0] == '\0' ? AT_EMPTY_PATH : 0;
    if (name_to_handle_at(directory_fd, name, &buffer.handle, &mount_id, flags) != 0) return -1;
    int length = 4 + (int)buffer.handle.handle_bytes;
    if (length > capacity) {
        errno = ENOSPC;
        return -1;
    }
    memcpy(out, &buffer.handle.handle_type, 4);
    memcpy(out + 4, buffer.handle.f_handle, buffer.handle.handle_bytes);
    return length;
}

int tenken_stat_by_handle(int mount_fd, const uint8_t *handle, int length, struct stat *out) {
    if (length < 4 || length - 4 > MAX_HANDLE_SZ) {
        errno = EINVAL;
        return -1;
    }
    union {
        struct file_handle handle;
        uint8_t space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
    } buffer;
    buffer.handle.handle_bytes = (unsigned int)(length - 4);
    memcpy(&buffer.handle.handle_type, handle, 4);
    memcpy(buffer.handle.f_handle, handle + 4, (size_t)(length - 4));
    // A file just removed can still be on its way out of the inode cache: ext4 then answers
    // ENOMEM, not ESTALE (seen as root for about 1 in 700 files replaced by a rename a moment
    // before; asked again 1 ms later, each said ESTALE). Still ENOMEM after that is the caller's.
    int fd = open_by_handle_at(mount_fd, &buffer.handle, O_PATH | O_CLOEXEC);
    for (int tries = 0; fd < 0 && errno == ENOMEM && tries < 5; tries++) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        fd = open_by_handle_at(mount_fd, &buffer.handle, O_PATH | O_CLOEXEC);
    }
    if (fd < 0) return -1;
    int result = fstat(fd, out);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}
