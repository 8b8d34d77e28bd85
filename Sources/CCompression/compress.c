#include "CCompression.h"

#include <zstd.h>

size_t tenken_zstd_bound(size_t length) {
    return ZSTD_compressBound(length);
}

size_t tenken_zstd_compress(const uint8_t *input, size_t length, int level, uint8_t *out, size_t capacity) {
    // One context per thread, kept for the thread's life: the collector's threads are few and
    // long-lived, and a context is not safe to share between threads.
    static _Thread_local ZSTD_CCtx *context;
    if (!context && !(context = ZSTD_createCCtx())) return 0;
    size_t written = ZSTD_compressCCtx(context, out, capacity, input, length, level);
    return ZSTD_isError(written) ? 0 : written;
}

int tenken_zstd_legacy_frame(const uint8_t *input, size_t length) {
    // Magic numbers 0xFD2FB51E to 0xFD2FB527, little-endian: zstd before v0.8. The library
    // still decodes them with older, separate code; nothing here makes them.
    return length >= 4 && input[0] >= 0x1E && input[0] <= 0x27 && input[1] == 0xB5 && input[2] == 0x2F && input[3] == 0xFD;
}

long long tenken_zstd_content_size(const uint8_t *input, size_t length) {
    if (tenken_zstd_legacy_frame(input, length)) return -2;
    unsigned long long size = ZSTD_getFrameContentSize(input, length);
    if (size == ZSTD_CONTENTSIZE_ERROR) return -2;
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size > (unsigned long long)INT64_MAX) return -1;
    size_t frame = ZSTD_findFrameCompressedSize(input, length);
    if (ZSTD_isError(frame)) return -2;
    return frame == length ? (long long)size : -1;
}

int tenken_zstd_decompress_exact(const uint8_t *input, size_t length, uint8_t *out, size_t size) {
    // Kept per thread for the same reason as the compression context.
    static _Thread_local ZSTD_DCtx *context;
    if (!context && !(context = ZSTD_createDCtx())) return -1;
    size_t written = ZSTD_decompressDCtx(context, out, size, input, length);
    return ZSTD_isError(written) || written != size ? -1 : 0;
}
