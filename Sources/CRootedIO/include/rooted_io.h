#ifndef TENKEN_ROOTED_IO_H
#define TENKEN_ROOTED_IO_H

/// Opens `path` relative to `root_fd` as if `root_fd` were "/": absolute symlinks and ".." cannot
/// leave the root (Linux openat2 RESOLVE_IN_ROOT, magic links refused). Falls back to openat on
/// kernels without openat2 only when `allow_unconfined` (the root is "/", where there is nothing
/// to escape to); otherwise fails with EXDEV. Returns a file descriptor or -1 with errno set.
int tenken_open_in_root(int root_fd, const char *path, int flags, int allow_unconfined);

/// Opens a directory as a path-only handle (O_PATH): the anchor every later open resolves in.
int tenken_open_root(const char *path);

/// 1 if `path` exists under the root (without following a final symlink's target out of it), else 0.
int tenken_exists_in_root(int root_fd, const char *path, int allow_unconfined);

#endif
