#ifndef TENKEN_SQUASHFS_H
#define TENKEN_SQUASHFS_H

#include <stdint.h>

/* A SquashFS image inside an open file (an AppImage's, after its ELF runtime), read with
 * Debian's libsquashfs (squashfs-tools-ng) through pread on that descriptor: never by path. */
typedef struct tenken_squashfs tenken_squashfs;

/* Opens the image that starts at `offset` of `fd` (size: the bytes from there to the file's end).
 * Returns 0, or a negative libsquashfs error (SQFS_ERROR_*), or 1 for an unknown compressor. */
int tenken_squashfs_open(int fd, uint64_t offset, uint64_t size, tenken_squashfs **out);
void tenken_squashfs_close(tenken_squashfs *image);

/* Called for each regular file: its path inside the image, its size, its mode, and a handle valid
 * only during the call for tenken_squashfs_read. A non-zero return stops the walk. */
typedef int (*tenken_squashfs_visit)(void *context, const char *path, uint64_t size, uint32_t mode,
                                     const void *file);

/* Walks every directory depth-first, at most `max_entries` entries and `max_depth` levels.
 * Returns 0, 2 when a bound was reached, or a negative libsquashfs error. */
int tenken_squashfs_walk(tenken_squashfs *image, tenken_squashfs_visit visit, void *context,
                         uint32_t max_entries, uint32_t max_depth);

/* Reads up to `size` bytes of a file at `offset`: the count read, 0 at its end, or a negative error. */
int32_t tenken_squashfs_read(tenken_squashfs *image, const void *file, uint64_t offset, void *buffer,
                             uint32_t size);

#endif
