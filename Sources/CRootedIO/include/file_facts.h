#ifndef TENKEN_FILE_FACTS_H
#define TENKEN_FILE_FACTS_H

#include <stdint.h>

/// The type of the file system that holds the open file `fd` (statfs's f_type, a magic number
/// of linux/magic.h). 0, or -1 with errno.
int tenken_file_system_type(int fd, int64_t *type);

/// When the entry `name` of the open directory `directory_fd` was created (statx's btime, unix
/// seconds), not following a symlink. 1 with the time, 0 when its file system does not record
/// it, or -1 with errno.
int tenken_birth_time_at(int directory_fd, const char *name, int64_t *seconds);

#endif
