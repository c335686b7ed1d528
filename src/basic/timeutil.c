/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

int64_t time_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t time_mono_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *time_format_rfc3339(int64_t ns, char *buf, size_t size)
{
        time_t sec = (time_t)(ns / 1000000000);
        long frac = (long)(ns % 1000000000);
        struct tm tm;
        size_t n;

        gmtime_r(&sec, &tm);
        n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        if (frac > 0 && n + 12 < size) {
                char f[16];
                int len = snprintf(f, sizeof(f), ".%09ld", frac);
                while (len > 1 && f[len - 1] == '0')
                        f[--len] = '\0';
                memcpy(buf + n, f, (size_t)len);
                n += (size_t)len;
        }
        if (n + 2 <= size) {
                buf[n++] = 'Z';
                buf[n] = '\0';
        }
        return buf;
}
