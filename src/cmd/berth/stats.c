/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"
#include "engine/stats.h"

static const struct berth_usage usage = {
    .usage = "berth stats [options] [CONTAINER...]",
    .summary = "Display a live stream of container(s) resource usage statistics",
    .options = "  -a, --all             show all containers (default shows just running)\n"
               "      --format FORMAT   table (default), json, or a Go template ('{{.Name}} {{.CPUPerc}}')\n"
               "      --no-stream       disable streaming stats and only pull the first result\n"
               "      --no-trunc        do not truncate output\n",
};

/* go-units' CustomSize: 4 significant digits in binary units ("1.523MiB"), as docker's MEM USAGE. */
static void binary_size(uint64_t v, char *buf, size_t size)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        double d = (double)v;
        size_t u = 0;

        while (d >= 1024 && u + 1 < ARRAY_SIZE(units)) {
                d /= 1024;
                u++;
        }
        snprintf(buf, size, "%.4g%s", d, units[u]);
}

/* go-units' HumanSizeWithPrecision(v, 3): decimal units ("1.45kB"), as docker's NET and BLOCK I/O. */
static void decimal_size(uint64_t v, char *buf, size_t size)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        double d = (double)v;
        size_t u = 0;

        while (d >= 1000 && u + 1 < ARRAY_SIZE(units)) {
                d /= 1000;
                u++;
        }
        snprintf(buf, size, "%.3g%s", d, units[u]);
}

struct sample {
        char id[65];
        struct engine_stats s;
};

struct state {
        struct sample *prev;
        size_t n_prev;
};

static const struct engine_stats *previous(const struct state *st, const char *id)
{
        for (size_t i = 0; i < st->n_prev; i++)
                if (streq(st->prev[i].id, id))
                        return &st->prev[i].s;
        return NULL;
}

/* docker's column values of one container. */
static json_object *row_json(const struct container *c, const struct engine_stats *s,
                             const struct engine_stats *prev, bool no_trunc)
{
        json_object *o = json_object_new_object();
        char a[32], b[32], buf[96];
        double mem_pct = s->mem_limit ? (double)s->mem_usage * 100.0 / (double)s->mem_limit : 0;

        decimal_size(s->blk_read, a, sizeof(a));
        decimal_size(s->blk_write, b, sizeof(b));
        snprintf(buf, sizeof(buf), "%s / %s", a, b);
        json_object_object_add(o, "BlockIO", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "%.2f%%", engine_stats_cpu_percent(prev, s));
        json_object_object_add(o, "CPUPerc", json_object_new_string(buf));
        json_object_object_add(o, "Container", json_object_new_string(c->name));
        snprintf(buf, sizeof(buf), "%.*s", no_trunc ? 64 : 12, c->id);
        json_object_object_add(o, "ID", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "%.2f%%", isfinite(mem_pct) ? mem_pct : 0.0);
        json_object_object_add(o, "MemPerc", json_object_new_string(buf));
        binary_size(s->mem_usage, a, sizeof(a));
        binary_size(s->mem_limit, b, sizeof(b));
        snprintf(buf, sizeof(buf), "%s / %s", a, b);
        json_object_object_add(o, "MemUsage", json_object_new_string(buf));
        json_object_object_add(o, "Name", json_object_new_string(c->name));
        decimal_size(s->net_rx, a, sizeof(a));
        decimal_size(s->net_tx, b, sizeof(b));
        snprintf(buf, sizeof(buf), "%s / %s", a, b);
        json_object_object_add(o, "NetIO", json_object_new_string(buf));
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)s->pids);
        json_object_object_add(o, "PIDs", json_object_new_string(buf));
        return o;
}

static const char *col(json_object *o, const char *k)
{
        return json_object_get_string(json_object_object_get(o, k));
}

/* One round: the containers named (or all running, with all every one), printed. */
static int round_print(struct engine *e, char **names, size_t n_names, bool all, const char *format,
                       bool no_trunc, bool clear, struct state *st, struct berr **err)
{
        struct container **v = NULL;
        struct sample *cur = NULL;
        size_t n = 0, n_cur = 0;
        struct table *t = NULL;
        int ret = -1;

        if (n_names) {
                v = calloc(n_names, sizeof(*v));
                if (!v)
                        return berr_make(err, ENOMEM, "stats");
                for (size_t i = 0; i < n_names; i++, n++)
                        if (ctr_lookup(e, names[i], &v[i], err) <= 0)
                                goto out;
        } else if (container_list(e->db, &v, &n, err) < 0) {
                return -1;
        }
        cur = calloc(n ? n : 1, sizeof(*cur));
        if (!cur) {
                berr_make(err, ENOMEM, "stats");
                goto out;
        }
        if (!format || streq(format, "table")) {
                static const char *const hdr[] = {"CONTAINER ID", "NAME",    "CPU %",     "MEM USAGE / LIMIT",
                                                  "MEM %",        "NET I/O", "BLOCK I/O", "PIDS"};
                t = table_new(ARRAY_SIZE(hdr));
                table_add(t, hdr);
        } else if (format_is_table(format)) {
                format_table_header(format, stdout);
        }
        for (size_t i = 0; i < n; i++) {
                struct engine_stats s;
                json_object *o;
                if (engine_container_stats(e, v[i], &s, err) < 0)
                        goto out;
                if (!s.running && !all && !n_names)
                        continue;
                snprintf(cur[n_cur].id, sizeof(cur[n_cur].id), "%s", v[i]->id);
                cur[n_cur++].s = s;
                o = row_json(v[i], &s, previous(st, v[i]->id), no_trunc);
                if (t) {
                        const char *cells[] = {col(o, "ID"),       col(o, "Name"),    col(o, "CPUPerc"),
                                               col(o, "MemUsage"), col(o, "MemPerc"), col(o, "NetIO"),
                                               col(o, "BlockIO"),  col(o, "PIDs")};
                        table_add(t, cells);
                } else if (streq(format, "json")) {
                        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
                } else if (format_template(format, o, stdout, err) < 0) {
                        json_object_put(o);
                        goto out;
                }
                json_object_put(o);
        }
        if (clear)
                fputs("\033[2J\033[H", stdout);
        if (t)
                table_print(t, stdout);
        fflush(stdout);
        free(st->prev);
        st->prev = TAKE_PTR(cur);
        st->n_prev = n_cur;
        ret = 0;
out:
        table_free(t);
        free(cur);
        container_freev(v, n);
        return ret;
}

int cmd_stats(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},         {"all", no_argument, NULL, 'a'},
            {"format", required_argument, NULL, 'F'}, {"no-stream", no_argument, NULL, 'S'},
            {"no-trunc", no_argument, NULL, 'T'},     {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct state st = {0};
        const char *format = NULL;
        bool all = false, stream = true, no_trunc = false;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ha", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'S':
                        stream = false;
                        break;
                case 'T':
                        no_trunc = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (berth_engine(ctx, &e, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        for (;;) {
                if (round_print(e, argv + optind, (size_t)(argc - optind), all, format, no_trunc,
                                stream && stdout_is_tty(), &st, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        break;
                }
                if (!stream || ferror(stdout))
                        break;
                {
                        struct timespec ts = {1, 0};
                        nanosleep(&ts, NULL);
                }
        }
        free(st.prev);
        return ret;
}
