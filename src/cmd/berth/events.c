/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "basic/timeutil.h"
#include "berth.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "monitor/ctrlog.h"

static const struct berth_usage usage = {
    .usage = "berth events [options]",
    .summary = "Get real time events from berth",
    .options =
        "  -f, --filter FILTER   filter output based on conditions provided (type=, event=, container=,\n"
        "                        image=, volume=, network=, label=KEY[=VALUE]; repeatable)\n"
        "      --format FORMAT   json, or a Go template ('{{.Action}} {{.Actor.Attributes.name}}')\n"
        "      --since TIME      show all events created since timestamp (RFC 3339, Unix time, or a\n"
        "                        duration like 10m)\n"
        "      --until TIME      stream events until this timestamp\n",
};

struct printer {
        const char *format;
};

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* docker's default line: local time with fixed nanoseconds, type, action, id, (sorted attributes). */
static void print_text(json_object *ev)
{
        json_object *actor = json_object_object_get(ev, "Actor");
        json_object *attrs = json_object_object_get(actor, "Attributes");
        int64_t ns = json_object_get_int64(json_object_object_get(ev, "timeNano"));
        const char *keys[256];
        size_t n = 0;
        time_t sec = (time_t)(ns / 1000000000LL);
        struct tm tm;
        char when[64], zone[32];

        localtime_r(&sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        if (tm.tm_gmtoff == 0)
                snprintf(zone, sizeof(zone), "Z");
        else
                snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
                         labs(tm.tm_gmtoff) / 3600, labs(tm.tm_gmtoff) % 3600 / 60);
        printf("%s.%09lld%s %s %s %s", when, (long long)(ns % 1000000000LL), zone,
               json_object_get_string(json_object_object_get(ev, "Type")),
               json_object_get_string(json_object_object_get(ev, "Action")),
               json_object_get_string(json_object_object_get(actor, "ID")));
        if (json_object_is_type(attrs, json_type_object)) {
                json_object_object_foreach (attrs, k, v) {
                        (void)v;
                        if (n < ARRAY_SIZE(keys))
                                keys[n++] = k;
                }
        }
        if (n) {
                qsort(keys, n, sizeof(keys[0]), cmp_key);
                fputs(" (", stdout);
                for (size_t i = 0; i < n; i++)
                        printf("%s%s=%s", i ? ", " : "", keys[i],
                               json_object_get_string(json_object_object_get(attrs, keys[i])));
                fputc(')', stdout);
        }
        fputc('\n', stdout);
}

static int on_event(void *userdata, json_object *ev, struct berr **err)
{
        struct printer *p = userdata;

        if (!p->format)
                print_text(ev);
        else if (streq(p->format, "json"))
                printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
                                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        else if (format_template(p->format, ev, stdout, err) < 0)
                return -1;
        /* A reader that went away (berth events | head) ends the stream. */
        return fflush(stdout) != 0 || ferror(stdout) ? 1 : 0;
}

int cmd_events(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},         {"filter", required_argument, NULL, 'f'},
            {"format", required_argument, NULL, 'F'}, {"since", required_argument, NULL, 'S'},
            {"until", required_argument, NULL, 'U'},  {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_(engine_events_filter_done) struct engine_events_filter f = {0};
        struct engine_events_query q = {.follow = true, .filter = &f};
        struct printer p = {0};
        int64_t now = time_now_ns();
        struct engine *e;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        if (engine_events_filter_add(&f, optarg, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                case 'F':
                        p.format = optarg;
                        break;
                case 'S':
                        if (ctrlog_parse_since(optarg, now, &q.since_ns, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        /* "0" or the epoch: everything there is. */
                        if (q.since_ns <= 0)
                                q.since_ns = 1;
                        break;
                case 'U':
                        if (ctrlog_parse_since(optarg, now, &q.until_ns, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        if (q.until_ns <= 0)
                                q.until_ns = 1;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&usage, "\"berth events\" accepts no arguments");
        /* docker: with --until alone, the past events up to it are shown too. */
        if (q.until_ns && !q.since_ns)
                q.since_ns = 1;
        if (q.since_ns && q.until_ns && q.until_ns < q.since_ns)
                return berth_failf(EXIT_BERTH, "--until must not be before --since");
        if (berth_engine(ctx, &e, &err) < 0 || engine_events_read(e, &q, on_event, &p, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        return 0;
}
