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
