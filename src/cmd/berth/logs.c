/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "basic/fileio.h"
#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "monitor/ctrlog.h"

static const struct berth_usage usage = {
    .usage = "berth logs [options] CONTAINER",
    .summary = "Fetch the logs of a container",
    .options =
        "  -f, --follow         follow the output\n"
        "      --since TIME     only records since TIME (RFC 3339, Unix time, or a duration like 10m)\n"
        "      --until TIME     only records before TIME\n"
        "  -n, --tail N         only the last N records (default all)\n"
        "  -t, --timestamps     show timestamps\n",
};

struct printer {
        const char *state_dir;
        bool timestamps;
        bool line_start[2];
};

static int print_record(const struct ctrlog_record *rec, void *userdata, struct berr **err)
{
        struct printer *p = userdata;
        int fd = rec->stream == CTRLOG_STDERR ? STDERR_FILENO : STDOUT_FILENO;
        bool *start = &p->line_start[rec->stream == CTRLOG_STDERR];

        if (p->timestamps && *start) {
                char ts[64];
                time_format_rfc3339(rec->time_ns, ts, sizeof(ts));
                if (write_all(fd, ts, strlen(ts)) < 0 || write_all(fd, " ", 1) < 0)
                        return berr_errno(err, "write");
        }
        if (write_all(fd, rec->msg, rec->len) < 0 || (!rec->partial && write_all(fd, "\n", 1) < 0)) {
                /* A closed pipe (berth logs | head) ends quietly. */
                return errno == EPIPE ? 1 : berr_errno(err, "write");
        }
        *start = !rec->partial;
        return 0;
}

/* Following ends once the monitor is gone and everything is read. */
static bool monitor_done(void *userdata)
{
        const struct printer *p = userdata;
        return monitor_probe(p->state_dir, NULL) <= 0;
}

int cmd_logs(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},        {"follow", no_argument, NULL, 'f'},
            {"since", required_argument, NULL, 'S'}, {"until", required_argument, NULL, 'U'},
            {"tail", required_argument, NULL, 'n'},  {"timestamps", no_argument, NULL, 't'},
            {"details", no_argument, NULL, 'D'},     {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_free_ char *state_dir = NULL;
        struct ctrlog_read_opts ro = {.tail = -1};
        struct printer p = {.line_start = {true, true}};
        const char *since = NULL, *until = NULL, *driver, *path;
        struct engine *e;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hfn:t", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        ro.follow = true;
                        break;
                case 'S':
                        since = optarg;
                        break;
                case 'U':
                        until = optarg;
                        break;
                case 'n':
                        if (ctrlog_parse_tail(optarg, &ro.tail, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                case 't':
                        p.timestamps = true;
                        break;
                case 'D':
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 1)
                return berth_usage_error(&usage, "\"berth logs\" requires exactly 1 argument");
        if ((since && ctrlog_parse_since(since, time_now_ns(), &ro.since_ns, &err) < 0) ||
            (until && ctrlog_parse_since(until, time_now_ns(), &ro.until_ns, &err) < 0))
                return berth_fail(&err, EXIT_BERTH);
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, argv[optind], &ct, &err) <= 0)
                return berth_fail(&err, EXIT_BERTH);
        driver = container_cfg_str(ct, "logDriver");
        path = container_cfg_str(ct, "logPath");
        if (!driver || ctrlog_parse_driver(driver, &ro.driver) < 0 || ro.driver == CTRLOG_NONE || !path)
                return berth_failf(EXIT_BERTH,
                                   "container %s logs with driver `%s`, which keeps nothing to read",
                                   ct->name, driver ? driver : "none");
        state_dir = engine_state_dir(e, ct->id);
        p.state_dir = state_dir;
        ro.done = monitor_done;
        if (access(path, F_OK) < 0)
                return 0; /* never started: no output yet */
        if (ctrlog_read(path, &ro, print_record, &p, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        return 0;
}
