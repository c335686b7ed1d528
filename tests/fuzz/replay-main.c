/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs a fuzz target over its seed corpus without libFuzzer, so every build
 * (including the sanitizer build) checks the corpus. Prints one TAP line per
 * input: an input passes when the target returns without crashing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
        char *names[4096];
        size_t n = 0;
        DIR *d;
        struct dirent *de;

        const char *dir = argc > 1 ? argv[1] : FUZZ_CORPUS;

        d = opendir(dir);
        if (!d) {
                printf("1..0 # SKIP no corpus at %s\n", dir);
                return 0;
        }
        while ((de = readdir(d)) && n < 4096)
                if (de->d_name[0] != '.')
                        names[n++] = strdup(de->d_name);
        closedir(d);
        qsort(names, n, sizeof(char *), cmp);
        printf("1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
                char path[4096];
                char *buf = NULL;
                size_t len = 0;
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                if (read_file_at(AT_FDCWD, path, 64 << 20, &buf, &len, NULL) < 0) {
                        printf("not ok %zu - %s (unreadable)\n", i + 1, names[i]);
                        continue;
                }
                LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
                printf("ok %zu - %s\n", i + 1, names[i]);
                free(buf);
                free(names[i]);
        }
        return 0;
}
