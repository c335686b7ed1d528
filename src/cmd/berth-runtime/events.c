/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>

#include "basic/log.h"
#include "basic/timeutil.h"
#include "commands.h"

/* Go's time.ParseDuration, which runc's --interval takes: "5s", "250ms", "1m30s", "1.5h". */
static int parse_duration(const char *s, int64_t *ns)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        double total = 0;
        bool neg = *s == '-';

        if (*s == '-' || *s == '+')
                s++;
        if (streq(s, "0")) {
                *ns = 0;
                return 0;
        }
        if (!*s)
                return -EINVAL;
        while (*s) {
                double v = 0, scale = 1;
                size_t best = 0, ul = 0;
                bool digits = false;

                for (; isdigit((unsigned char)*s); s++, digits = true)
                        v = v * 10 + (*s - '0');
                if (*s == '.')
                        for (s++; isdigit((unsigned char)*s); s++, digits = true)
                                v += (*s - '0') * (scale /= 10);
                if (!digits)
                        return -EINVAL;
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t l = strlen(units[i].unit);
                        if (strneq(s, units[i].unit, l) && l > ul) {
                                best = i;
                                ul = l;
                        }
                }
                if (!ul)
                        return -EINVAL;
                total += v * units[best].ns;
                s += ul;
        }
        if (total >= 9223372036854775807.0)
                return -ERANGE;
        *ns = (int64_t)(neg ? -total : total);
        return 0;
}

/* One line of JSON per event, as runc prints them; takes data. False once stdout is gone. */
static bool print_event(const char *type, const char *id, json_object *data)
{
        json_object *e = json_object_new_object();

        json_object_object_add(e, "type", json_object_new_string(type));
        json_object_object_add(e, "id", json_object_new_string(id));
        if (data)
                json_object_object_add(e, "data", data);
        printf("%s\n",
               json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(e);
        return fflush(stdout) == 0 && !ferror(stdout);
}

static int watch_events(struct container *c, int64_t interval)
{
        _cleanup_oom_watch_ struct cgroup_oom_watch *w = NULL;
        struct berr *err = NULL;
        int64_t next = time_mono_ns() + interval;

        if (cgroup_oom_watch_new(c->cg, &w, &err) < 0)
                return fail(err);
        /* Until the cgroup goes away, as runc: stats every interval, OOM kills as they happen. */
        for (;;) {
                int64_t now = time_mono_ns();
                struct pollfd pfd = {.fd = cgroup_oom_watch_fd(w), .events = POLLIN};
                uint64_t ooms;
                bool gone;

                if (now >= next) {
                        json_object *st;
                        if (cgroup_stats(c->cg, &st, &err) < 0) {
                                log_error("container `%s`: %s", c->id, err->msg);
                                berr_freep(&err);
                        } else if (!print_event("stats", c->id, st))
                                return 1;
                        while (next <= now)
                                next += interval;
                        continue;
                }
                if (poll(&pfd, 1, (int)MIN((next - now + 999999) / 1000000, 60000)) < 0 && errno != EINTR)
                        return fail_msg("events: poll: %s", strerror(errno));
                if (!(pfd.revents & POLLIN))
                        continue;
                if (cgroup_oom_watch_read(w, &ooms, &gone, &err) < 0)
                        return fail(err);
                for (uint64_t i = 0; i < ooms; i++)
                        if (!print_event("oom", c->id, NULL))
                                return 1;
                if (gone)
                        return 0;
        }
}

int cmd_events(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"interval", required_argument, NULL, 'i'},
                                             {"stats", no_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        _cleanup_container_ struct container *c = NULL;
        int64_t interval = 5000000000LL;
        struct berr *err = NULL;
        bool stats = false;
        json_object *st;
        int ch;

        while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (ch == 'i') {
                        if (parse_duration(optarg, &interval) < 0)
                                return fail_msg(
                                    "invalid value `%s` for --interval (a duration like 5s or 500ms)",
                                    optarg);
                } else if (ch == 's')
                        stats = true;
                else
                        return usage(command_find("events"), ch == 'h' ? 0 : 1);
        }
        if (need_args("events", argc - optind, 1, 1))
                return 1;
        if (interval <= 0)
                return fail_msg("duration interval must be greater than 0");
        if (container_load(ctx, argv[optind], &c, &err) < 0)
                return fail(err);
        if (container_status(c) == OCI_STATUS_STOPPED)
                return fail_msg("container `%s` is not running", c->id);
        if (!c->cg)
                return fail_msg("container `%s` has no cgroup", c->id);
        if (!stats)
                return watch_events(c, interval);
        if (cgroup_stats(c->cg, &st, &err) < 0)
                return fail(err);
        return print_event("stats", c->id, st) ? 0 : 1;
}
