/* SPDX-License-Identifier: Apache-2.0 */
#include <json-c/json.h>
#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "fileio.h"
#include "log.h"
#include "timeutil.h"

static int sink_fd = -1;
static enum log_format sink_format = LOG_FORMAT_TEXT;
static enum log_level sink_level = LOG_LEVEL_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_setup(int fd, enum log_format format, enum log_level max_level)
{
        if (sink_fd >= 0 && sink_fd != fd)
                close(sink_fd);
        sink_fd = fd;
        sink_format = format;
        sink_level = max_level;
}

int log_parse_level(const char *s, enum log_level *out)
{
        for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
                if (streq(s, level_names[i]) || (i == LOG_LEVEL_WARN && streq(s, "warn"))) {
                        *out = (enum log_level)i;
                        return 0;
                }
        return -EINVAL;
}

bool log_enabled(enum log_level level)
{
        return level <= sink_level;
}

int log_fd(void)
{
        return sink_fd;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
        int saved = errno;
        char ts[64];
        _cleanup_free_ char *msg = NULL, *line = NULL;
        va_list ap;
        int n;

        if (!log_enabled(level))
                return;
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        time_format_rfc3339(time_now_ns(), ts, sizeof(ts));
        if (sink_format == LOG_FORMAT_JSON) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "level", json_object_new_string(level_names[level]));
                json_object_object_add(o, "msg", json_object_new_string(msg));
                json_object_object_add(o, "time", json_object_new_string(ts));
                n = asprintf(&line, "%s\n",
                             json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else if (sink_fd >= 0) {
                n = asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level_names[level], msg);
        } else {
                n = asprintf(&line, "%s\n", msg);
        }
        if (n >= 0)
                (void)write_all(sink_fd >= 0 ? sink_fd : STDERR_FILENO, line, (size_t)n);
        errno = saved;
}
