/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Nanoseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ns(void);
int64_t time_mono_ns(void);
/* RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints it
 * ("2024-01-02T03:04:05.123456789Z", trailing zeros dropped). */
char *time_format_rfc3339(int64_t ns, char *buf, size_t size);
