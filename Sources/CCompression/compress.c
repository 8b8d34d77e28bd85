#include "CCompression.h"

#include <stdlib.h>
#include <zstd.h>

int tenken_zstd_compress(const uint8_t *input, size_t length, int level, uint8_t **out, size_t *out_length) {
    size_t bound = ZSTD_compressBound(length);
    uint8_t *buffer = malloc(bound ? bound : 1);
    if (!buffer) return -1;
    size_t written = ZSTD_compress(buffer, bound, input, length, level);
    if (ZSTD_isError(written)) {
        free(buffer);
        return -1;
    }
    *out = buffer;
    *out_length = written;
    return 0;
}
