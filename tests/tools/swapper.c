/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for symlink-exchange races (CVE-2021-30465 class):
 *   berth-test-swapper A B SECONDS
 * atomically exchanges the paths A and B (renameat2 RENAME_EXCHANGE) as fast
 * as it can for SECONDS seconds, then leaves them as they started.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv)
{
        struct timespec start, now;
        unsigned long n = 0;

        if (argc != 4) {
                fprintf(stderr, "usage: %s A B SECONDS\n", argv[0]);
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &start);
        do {
                if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) < 0) {
                        perror("renameat2");
                        return 1;
                }
                n++;
                clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec - start.tv_sec < atoi(argv[3]));
        if (n % 2 && syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) < 0)
                return 1;
        printf("%lu exchanges\n", n + n % 2);
        return 0;
}
