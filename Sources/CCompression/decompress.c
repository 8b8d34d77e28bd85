#include "CCompression.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <lz4frame.h>
#include <zstd.h>
#include <lzma.h>

struct buffer { uint8_t *data; size_t length, capacity, limit; };

/// Makes room for up to `want` more bytes, but never past one byte beyond the limit: that byte
/// tells output past the limit (-2 at the end) from output that ends exactly at it. 0 on
/// success, -2 when the buffer already holds more than the limit, -1 out of memory.
static int reserve(struct buffer *buffer, size_t want) {
    size_t cap = buffer->limit < SIZE_MAX ? buffer->limit + 1 : SIZE_MAX;
    if (buffer->length >= cap) return -2;
    if (want > cap - buffer->length) want = cap - buffer->length;
    if (buffer->length + want <= buffer->capacity) return 0;
    size_t capacity = buffer->capacity ? buffer->capacity : 1 << 16;
    while (capacity < buffer->length + want) capacity *= 2;
    if (capacity > cap) capacity = cap;
    uint8_t *grown = realloc(buffer->data, capacity);
    if (!grown) return -1;
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

static int gunzip(const uint8_t *input, size_t length, struct buffer *out) {
    z_stream stream;
    memset(&stream, 0, sizeof stream);
    if (inflateInit2(&stream, 15 + 32) != Z_OK) return -1;  // +32: gzip or zlib header
    stream.next_in = (Bytef *)input;
    stream.avail_in = (uInt)length;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        int room = reserve(out, 1 << 16);
        if (room) { inflateEnd(&stream); return room; }
        stream.next_out = out->data + out->length;
        stream.avail_out = (uInt)(out->capacity - out->length);
        status = inflate(&stream, Z_NO_FLUSH);
        out->length = out->capacity - stream.avail_out;
        if (status != Z_OK && status != Z_STREAM_END) { inflateEnd(&stream); return -1; }
        // Concatenated members (cat a.gz b.gz) are one file to gzip and to apt.
        if (status == Z_STREAM_END && stream.avail_in > 0) {
            if (inflateReset(&stream) != Z_OK) { inflateEnd(&stream); return -1; }
            status = Z_OK;
        }
        if (status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) { inflateEnd(&stream); return -1; }  // truncated
    }
    inflateEnd(&stream);
    return 0;
}

static int unlz4(const uint8_t *input, size_t length, struct buffer *out) {
    LZ4F_dctx *context;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&context, LZ4F_VERSION))) return -1;
    size_t consumed = 0, hint = 1;
    while (consumed < length) {  // a finished frame (hint 0) may be followed by another
        int room = reserve(out, 1 << 18);
        if (room) { LZ4F_freeDecompressionContext(context); return room; }
        size_t produced = out->capacity - out->length, taken = length - consumed;
        hint = LZ4F_decompress(context, out->data + out->length, &produced, input + consumed, &taken, NULL);
        if (LZ4F_isError(hint)) { LZ4F_freeDecompressionContext(context); return -1; }
        consumed += taken;
        out->length += produced;
    }
    LZ4F_freeDecompressionContext(context);
    return hint == 0 ? 0 : -1;  // non-zero hint: the last frame is incomplete
}

static int unzstd(const uint8_t *input, size_t length, struct buffer *out) {
    ZSTD_DStream *stream = ZSTD_createDStream();
    if (!stream) return -1;
    ZSTD_inBuffer in = { input, length, 0 };
    size_t status = 1;
    int frame_starts = 1;
    while (in.pos < in.size || status != 0) {
        if (frame_starts && tenken_zstd_legacy_frame(input + in.pos, length - in.pos)) { ZSTD_freeDStream(stream); return -1; }
        int room = reserve(out, 1 << 18);
        if (room) { ZSTD_freeDStream(stream); return room; }
        ZSTD_outBuffer chunk = { out->data + out->length, out->capacity - out->length, 0 };
        size_t before = in.pos;
        status = ZSTD_decompressStream(stream, &chunk, &in);
        if (ZSTD_isError(status)) { ZSTD_freeDStream(stream); return -1; }
        frame_starts = status == 0;
        out->length += chunk.pos;
        if (status != 0 && in.pos == in.size && before == in.pos && chunk.pos == 0) { ZSTD_freeDStream(stream); return -1; }
    }
    ZSTD_freeDStream(stream);
    return 0;
}

static int unxz(const uint8_t *input, size_t length, struct buffer *out) {
    lzma_stream stream = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&stream, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) return -1;
    stream.next_in = input;
    stream.avail_in = length;
    lzma_ret status = LZMA_OK;
    while (status != LZMA_STREAM_END) {
        int room = reserve(out, 1 << 18);
        if (room) { lzma_end(&stream); return room; }
        stream.next_out = out->data + out->length;
        stream.avail_out = out->capacity - out->length;
        status = lzma_code(&stream, stream.avail_in ? LZMA_RUN : LZMA_FINISH);
        out->length = out->capacity - stream.avail_out;
        if (status != LZMA_OK && status != LZMA_STREAM_END) { lzma_end(&stream); return -1; }
    }
    lzma_end(&stream);
    return 0;
}

int tenken_decompress(enum tenken_compression format, const uint8_t *input, size_t length, size_t limit,
                      uint8_t **out, size_t *out_length) {
    struct buffer buffer = { NULL, 0, 0, limit };
    int status;
    switch (format) {
    case TENKEN_GZIP: status = gunzip(input, length, &buffer); break;
    case TENKEN_LZ4: status = unlz4(input, length, &buffer); break;
    case TENKEN_ZSTD: status = unzstd(input, length, &buffer); break;
    case TENKEN_XZ: status = unxz(input, length, &buffer); break;
    default: status = -1;
    }
    if (status == 0 && buffer.length > limit) status = -2;
    if (status != 0) { free(buffer.data); return status; }
    *out = buffer.data;
    *out_length = buffer.length;
    return 0;
}

/// Streams the output through a window of `window` bytes: each time it fills, and at the end,
/// `each(context, data, length)` gets what it holds (non-zero from it stops with that status).
/// Memory is the window, whatever the file inflates to; `limit` still bounds the total.
int tenken_decompress_each(enum tenken_compression format, const uint8_t *input, size_t length, size_t limit,
                           size_t window, int (*each)(void *context, const uint8_t *data, size_t length),
                           void *context) {
    if (window == 0) return -1;
    uint8_t *data = malloc(window);
    if (!data) return -1;
    size_t total = 0;
    int status = 0;
    // One window at a time: decompress until the window is full or the stream ends.
    switch (format) {
    case TENKEN_GZIP: {
        z_stream stream;
        memset(&stream, 0, sizeof stream);
        if (inflateInit2(&stream, 15 + 32) != Z_OK) { status = -1; goto done; }
        stream.next_in = (Bytef *)input;
        stream.avail_in = (uInt)length;
        int code = Z_OK;
        while (code != Z_STREAM_END) {
            stream.next_out = data;
            stream.avail_out = (uInt)window;
            code = inflate(&stream, Z_NO_FLUSH);
            size_t produced = window - stream.avail_out;
            if (code != Z_OK && code != Z_STREAM_END && !(code == Z_BUF_ERROR && produced > 0)) {
                inflateEnd(&stream); status = -1; goto done;
            }
            if (code == Z_STREAM_END && stream.avail_in > 0) {
                if (inflateReset(&stream) != Z_OK) { inflateEnd(&stream); status = -1; goto done; }
                code = Z_OK;
            }
            if (code != Z_STREAM_END && stream.avail_in == 0 && produced < window) {
                inflateEnd(&stream); status = -1; goto done;  // truncated
            }
            total += produced;
            if (total > limit) { inflateEnd(&stream); status = -2; goto done; }
            if (produced > 0 && (status = each(context, data, produced)) != 0) { inflateEnd(&stream); goto done; }
        }
        inflateEnd(&stream);
        break;
    }
    case TENKEN_LZ4: {
        LZ4F_dctx *lz;
        if (LZ4F_isError(LZ4F_createDecompressionContext(&lz, LZ4F_VERSION))) { status = -1; goto done; }
        size_t consumed = 0, hint = 1;
        while (consumed < length || hint != 0) {
            size_t produced = window, taken = length - consumed;
            hint = LZ4F_decompress(lz, data, &produced, input + consumed, &taken, NULL);
            if (LZ4F_isError(hint)) { LZ4F_freeDecompressionContext(lz); status = -1; goto done; }
            consumed += taken;
            if (produced == 0 && taken == 0) break;  // no progress: truncated (checked below)
            total += produced;
            if (total > limit) { LZ4F_freeDecompressionContext(lz); status = -2; goto done; }
            if (produced > 0 && (status = each(context, data, produced)) != 0) {
                LZ4F_freeDecompressionContext(lz); goto done;
            }
        }
        LZ4F_freeDecompressionContext(lz);
        if (hint != 0) status = -1;
        break;
    }
    case TENKEN_ZSTD: {
        ZSTD_DStream *zs = ZSTD_createDStream();
        if (!zs) { status = -1; goto done; }
        ZSTD_inBuffer in = { input, length, 0 };
        size_t code = 1;
        int frame_starts = 1;
        while (in.pos < in.size || code != 0) {
            if (frame_starts && tenken_zstd_legacy_frame(input + in.pos, length - in.pos)) {
                ZSTD_freeDStream(zs); status = -1; goto done;
            }
            ZSTD_outBuffer out = { data, window, 0 };
            size_t before = in.pos;
            code = ZSTD_decompressStream(zs, &out, &in);
            if (ZSTD_isError(code)) { ZSTD_freeDStream(zs); status = -1; goto done; }
            frame_starts = code == 0;
            if (code != 0 && in.pos == in.size && before == in.pos && out.pos == 0) {
                ZSTD_freeDStream(zs); status = -1; goto done;
            }
            total += out.pos;
            if (total > limit) { ZSTD_freeDStream(zs); status = -2; goto done; }
            if (out.pos > 0 && (status = each(context, data, out.pos)) != 0) { ZSTD_freeDStream(zs); goto done; }
        }
        ZSTD_freeDStream(zs);
        break;
    }
    case TENKEN_XZ: {
        lzma_stream xz = LZMA_STREAM_INIT;
        if (lzma_stream_decoder(&xz, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) { status = -1; goto done; }
        xz.next_in = input;
        xz.avail_in = length;
        lzma_ret code = LZMA_OK;
        while (code != LZMA_STREAM_END) {
            xz.next_out = data;
            xz.avail_out = window;
            code = lzma_code(&xz, xz.avail_in ? LZMA_RUN : LZMA_FINISH);
            if (code != LZMA_OK && code != LZMA_STREAM_END) { lzma_end(&xz); status = -1; goto done; }
            size_t produced = window - xz.avail_out;
            total += produced;
            if (total > limit) { lzma_end(&xz); status = -2; goto done; }
            if (produced > 0 && (status = each(context, data, produced)) != 0) { lzma_end(&xz); goto done; }
        }
        lzma_end(&xz);
        break;
    }
    default: status = -1;
    }
done:
    free(data);
    return status;
}
