#ifndef TENKEN_CHANGE_JOURNAL_H
#define TENKEN_CHANGE_JOURNAL_H

#include <stdint.h>
#include <sys/stat.h>

/// The fanotify events a change journal asks for: every way a directory's entries or a file's
/// content, mode or links change (writes, attribute changes, creation, removal, renames), on
/// directories too.
extern const uint64_t tenken_journal_events;

/// Event bits the journal reads: the queue overflowed (events were lost), the object is a directory.
extern const uint64_t tenken_journal_overflow;
extern const uint64_t tenken_journal_on_directory;

/// Starts a fanotify group whose events carry the file handle of the object and, where the
/// kernel knows it, of its directory and its name (FAN_REPORT_FID | FAN_REPORT_DFID_NAME).
/// Needs CAP_SYS_ADMIN. Returns the descriptor (non-blocking, close-on-exec) or -1 with errno.
int tenken_journal_open(void);

/// Adds the whole file system that holds the open file `fd` to the journal (FAN_MARK_FILESYSTEM).
/// Returns 0, or -1 with errno (a file system that cannot report file handles: ENODEV, EXDEV,
/// EOPNOTSUPP).
int tenken_journal_mark(int journal, int fd);

/// Writes the file system id (8 bytes, as fanotify reports it) of the open file `fd` to `out`.
int tenken_file_system_id(int fd, uint8_t out[8]);

/// Writes the file handle of the open file `fd` as the journal reports it: the handle type
/// (4 bytes, native order) and the handle's bytes. Returns the length written, or -1 with errno.
int tenken_file_handle(int fd, uint8_t *out, int capacity);

/// The same for the entry `name` of the open directory `directory_fd`, not following a symlink.
int tenken_file_handle_at(int directory_fd, const char *name, uint8_t *out, int capacity);

/// Looks up a file by its handle (type and bytes as `tenken_file_handle` wrote them) on the file
/// system that holds `mount_fd`, and fstat()s it. Needs CAP_DAC_READ_SEARCH. 0, or -1 with errno
/// (ESTALE: the file no longer exists; ENOMEM still after a few tries is left to the caller).
int tenken_stat_by_handle(int mount_fd, const uint8_t *handle, int length, struct stat *out);

#endif
