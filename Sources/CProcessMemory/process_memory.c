#define _GNU_SOURCE
#include "process_memory.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

int tenken_release_idle_memory(void) {
    malloc_trim(0);
    FILE *maps = fopen("/proc/self/maps", "re");
    if (maps == NULL) return -1;
    char line[4096 + 128];
    int paged = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        unsigned long start, end, inode;
        char permissions[5];
        int path_at = 0;
        // "start-end perms offset dev inode   path"
        if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &start, &end, permissions, &inode, &path_at) < 4) continue;
        // Only pages of files: what was written to (copied on write) stays, or goes to swap if there is one.
        if (inode == 0 || line[path_at] != '/') continue;
        if (madvise((void *)start, end - start, MADV_PAGEOUT) == 0) paged++;
    }
    fclose(maps);
    return paged;
}

void tenken_map_large_buffers(void) { mallopt(M_MMAP_THRESHOLD, 1 << 20); }

size_t tenken_heap_in_use(void) { return mallinfo2().uordblks; }

int tenken_trim_heap(void) {
    return malloc_trim(0);
}
