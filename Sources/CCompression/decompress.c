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
