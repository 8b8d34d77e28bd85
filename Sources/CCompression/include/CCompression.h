#ifndef TENKEN_COMPRESSION_H
#define TENKEN_COMPRESSION_H

#include <stddef.h>
#include <stdint.h>

enum tenken_compression { TENKEN_GZIP = 1, TENKEN_LZ4 = 2, TENKEN_ZSTD = 3, TENKEN_XZ = 4 };

/// Decompresses a whole gzip, lz4 (frame), zstd or xz stream with the libraries apt itself uses
/// for stored indexes (Acquire::GzipIndexes). Output beyond `limit` bytes is an error, so a
/// hostile file cannot exhaust memory. On success returns 0 and sets *out (malloc'd; the caller
/// frees) and *out_length; on failure returns -1 (corrupt or truncated input) or -2 (limit).
int tenken_decompress(enum tenken_compression format, const uint8_t *input, size_t length, size_t limit,
                      uint8_t **out, size_t *out_length);

/// Like tenken_decompress, but the output goes to `each` a window of `window` bytes at a time,
/// so memory stays the window's whatever the input inflates to. A non-zero return from `each`
/// stops and is returned; otherwise 0, -1 (corrupt or truncated) or -2 (more than `limit`).
int tenken_decompress_each(enum tenken_compression format, const uint8_t *input, size_t length, size_t limit,
                           size_t window, int (*each)(void *context, const uint8_t *data, size_t length),
                           void *context);

/// The most a zstd frame of `length` input bytes can take.
size_t tenken_zstd_bound(size_t length);

/// Compresses into a zstd frame in `out` (at least tenken_zstd_bound(length) bytes): the
/// collector keeps reports this way. Each thread keeps its compression context, since making
/// one per report cost more than compressing it. Returns the frame's length, or 0 on failure.
size_t tenken_zstd_compress(const uint8_t *input, size_t length, int level, uint8_t *out, size_t capacity);

/// Whether the bytes begin a frame of a zstd format older than RFC 8878's (refused).
int tenken_zstd_legacy_frame(const uint8_t *input, size_t length);

/// The content size a single zstd frame declares: -1 when it does not say (made by a stream)
/// or the input is more than one frame, -2 when the input is not a (current) zstd frame.
long long tenken_zstd_content_size(const uint8_t *input, size_t length);

/// Decompresses a zstd frame that declared `size` bytes of content into `out` (`size` bytes),
/// with a decompression context kept per thread. Returns 0, or -1 if the frame is damaged or
/// holds other than `size` bytes.
int tenken_zstd_decompress_exact(const uint8_t *input, size_t length, uint8_t *out, size_t size);

#endif
