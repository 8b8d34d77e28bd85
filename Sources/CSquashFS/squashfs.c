#include "CSquashFS.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

/* libsquashfs reads through this: pread on our descriptor, shifted to the image's start. */
typedef struct {
    sqfs_file_t base;
    int fd;
    uint64_t offset;
    uint64_t size;
} window_file;

static int window_read_at(sqfs_file_t *base, sqfs_u64 offset, void *buffer, size_t size) {
    window_file *file = (window_file *)base;
    if (offset > file->size || size > file->size - offset) return SQFS_ERROR_OUT_OF_BOUNDS;
    size_t done = 0;
    while (done < size) {
        ssize_t count = pread(file->fd, (char *)buffer + done, size - done, (off_t)(file->offset + offset + done));
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) return SQFS_ERROR_IO;
        done += (size_t)count;
    }
    return 0;
}

static int window_write_at(sqfs_file_t *base, sqfs_u64 offset, const void *buffer, size_t size) {
    (void)base; (void)offset; (void)buffer; (void)size;
    return SQFS_ERROR_IO; /* read only */
}

static sqfs_u64 window_get_size(const sqfs_file_t *base) { return ((const window_file *)base)->size; }

static int window_truncate(sqfs_file_t *base, sqfs_u64 size) {
    (void)base; (void)size;
    return SQFS_ERROR_IO;
}

static void window_destroy(sqfs_object_t *object) { free(object); }

struct tenken_squashfs {
    window_file *file;
    sqfs_super_t super;
    sqfs_compressor_t *compressor;
    sqfs_dir_reader_t *directories;
    sqfs_data_reader_t *data;
};

void tenken_squashfs_close(tenken_squashfs *image) {
    if (!image) return;
    sqfs_destroy(image->data);
    sqfs_destroy(image->directories);
    sqfs_destroy(image->compressor);
    sqfs_destroy(image->file);
    free(image);
}

int tenken_squashfs_open(int fd, uint64_t offset, uint64_t size, tenken_squashfs **out) {
    *out = NULL;
    tenken_squashfs *image = calloc(1, sizeof *image);
    window_file *file = calloc(1, sizeof *file);
    if (!image || !file) {
        free(image);
        free(file);
        return SQFS_ERROR_ALLOC;
    }
    file->base.base.destroy = window_destroy;
    file->base.read_at = window_read_at;
    file->base.write_at = window_write_at;
    file->base.get_size = window_get_size;
    file->base.truncate = window_truncate;
    file->fd = fd;
    file->offset = offset;
    file->size = size;
    image->file = file;
    int result = sqfs_super_read(&image->super, &file->base);
    if (result != 0) goto fail;
    sqfs_compressor_config_t config;
    result = sqfs_compressor_config_init(&config, image->super.compression_id, image->super.block_size,
                                         SQFS_COMP_FLAG_UNCOMPRESS);
    if (result != 0) goto fail;
    result = sqfs_compressor_create(&config, &image->compressor);
    if (result != 0) {
        result = result == SQFS_ERROR_UNSUPPORTED ? 1 : result;
        goto fail;
    }
    image->directories = sqfs_dir_reader_create(&image->super, image->compressor, &file->base, 0);
    image->data = sqfs_data_reader_create(&file->base, image->super.block_size, image->compressor, 0);
    if (!image->directories || !image->data) {
        result = SQFS_ERROR_ALLOC;
        goto fail;
    }
    result = sqfs_data_reader_load_fragment_table(image->data, &image->super);
    if (result != 0) goto fail;
    *out = image;
    return 0;
fail:
    tenken_squashfs_close(image);
    return result;
}

typedef struct {
    tenken_squashfs *image;
    tenken_squashfs_visit visit;
    void *context;
    uint32_t entries_left;
    uint32_t max_depth;
    int stopped;
} walk_state;

/* One directory: its entries are listed first (the reader has one cursor), then visited. */
static int walk_directory(walk_state *state, const sqfs_inode_generic_t *directory, const char *path,
                          uint32_t depth) {
    if (depth > state->max_depth) return 2;
    int result = sqfs_dir_reader_open_dir(state->image->directories, directory, 0);
    if (result != 0) return result;
    size_t count = 0, capacity = 0;
    sqfs_dir_entry_t **names = NULL;
    sqfs_inode_generic_t **inodes = NULL;
    int status = 0;
    for (;;) {
        sqfs_dir_entry_t *entry = NULL;
        result = sqfs_dir_reader_read(state->image->directories, &entry);
        if (result > 0) break;
        if (result < 0) {
            status = result;
            break;
        }
        sqfs_inode_generic_t *inode = NULL;
        result = sqfs_dir_reader_get_inode(state->image->directories, &inode);
        if (result != 0) {
            sqfs_free(entry);
            status = result;
            break;
        }
        if (state->entries_left == 0) {
            sqfs_free(entry);
            sqfs_free(inode);
            status = 2;
            break;
        }
        state->entries_left--;
        if (count == capacity) {
            size_t grown = capacity ? capacity * 2 : 16;
            sqfs_dir_entry_t **more_names = realloc(names, grown * sizeof *names);
            if (more_names) names = more_names;
            sqfs_inode_generic_t **more_inodes = realloc(inodes, grown * sizeof *inodes);
            if (more_inodes) inodes = more_inodes;
            if (!more_names || !more_inodes) {
                sqfs_free(entry);
                sqfs_free(inode);
                status = SQFS_ERROR_ALLOC;
                break;
            }
            capacity = grown;
        }
        names[count] = entry;
        inodes[count] = inode;
        count++;
    }
    for (size_t index = 0; index < count && status == 0 && !state->stopped; index++) {
        size_t length = strlen(path) + 1 + names[index]->size + 2;
        char *child = malloc(length);
        if (!child) {
            status = SQFS_ERROR_ALLOC;
            break;
        }
        /* The stored name is size + 1 bytes, not NUL-terminated on disk (the reader adds one). */
        snprintf(child, length, "%s%s%.*s", path, *path ? "/" : "", (int)names[index]->size + 1,
                 (const char *)names[index]->name);
        const sqfs_inode_generic_t *inode = inodes[index];
        int type = inode->base.type;
        if (type == SQFS_INODE_DIR || type == SQFS_INODE_EXT_DIR) {
            int inner = walk_directory(state, inode, child, depth + 1);
            if (inner != 0) status = inner;
        } else if (type == SQFS_INODE_FILE || type == SQFS_INODE_EXT_FILE) {
            sqfs_u64 size = 0;
            sqfs_inode_get_file_size(inode, &size);
            if (state->visit(state->context, child, size, inode->base.mode, inode) != 0) state->stopped = 1;
        }
        free(child);
    }
    for (size_t index = 0; index < count; index++) {
        sqfs_free(names[index]);
        sqfs_free(inodes[index]);
    }
    free(names);
    free(inodes);
    return status;
}

int tenken_squashfs_walk(tenken_squashfs *image, tenken_squashfs_visit visit, void *context,
                         uint32_t max_entries, uint32_t max_depth) {
    sqfs_inode_generic_t *root = NULL;
    int result = sqfs_dir_reader_get_root_inode(image->directories, &root);
    if (result != 0) return result;
    walk_state state = {image, visit, context, max_entries, max_depth, 0};
    result = walk_directory(&state, root, "", 0);
    sqfs_free(root);
    return result;
}

int32_t tenken_squashfs_read(tenken_squashfs *image, const void *file, uint64_t offset, void *buffer,
                             uint32_t size) {
    return sqfs_data_reader_read(image->data, (const sqfs_inode_generic_t *)file, offset, buffer, size);
}
