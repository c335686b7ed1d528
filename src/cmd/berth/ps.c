/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>
#include <time.h>

#include "basic/json.h"
#include "basic/strv.h"
#include "basic/timeutil.h"
#include "ctr-util.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth ps [options]",
    .summary = "List containers",
    .options = "  -a, --all             show all containers (default: running ones)\n"
               "  -f, --filter KEY=VAL  id, name, label, status, exited, ancestor (repeatable)\n"
               "      --format FORMAT   table (default), json, or a Go template ('{{.ID}} {{.Names}}')\n"
               "  -n, --last N          the N most recently created containers (all states)\n"
               "  -l, --latest          the most recently created container (all states)\n"
               "      --no-trunc        full ids and commands\n"
               "  -q, --quiet           only ids\n",
};

struct filter {
        char *key, *value;
};

static bool label_matches(json_object *labels, const char *want)
{
        const char *eq = strchr(want, '=');
        _cleanup_free_ char *key = eq ? strndup(want, (size_t)(eq - want)) : strdup(want);
        json_object *v;

        if (!key || !json_object_object_get_ex(labels, key, &v))
                return false;
        return !eq || streq(json_object_get_string(v), eq + 1);
}

static bool matches(const struct container *c, const struct container_state *st, const struct filter *f,
                    size_t n)
{
        /* docker: values of one key are alternatives, different keys must all match. */
        static const char *const keys[] = {"id", "name", "label", "status", "exited", "ancestor"};

        for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
                bool seen = false, ok = false;
                for (size_t i = 0; i < n; i++) {
                        const char *v = f[i].value;
                        if (!streq(f[i].key, keys[k]))
                                continue;
                        seen = true;
                        switch (k) {
                        case 0:
                                ok |= strneq(c->id, v, strlen(v));
                                break;
                        case 1:
                                ok |= strstr(c->name, v[0] == '/' ? v + 1 : v) != NULL;
                                break;
                        case 2:
                                ok |= label_matches(container_cfg(c, "labels"), v);
                                break;
                        case 3:
                                ok |= streq(container_status_name(st->status), v);
                                break;
                        case 4:
                                ok |= st->status == CONTAINER_EXITED && st->exit_code == atoi(v);
                                break;
                        case 5:
                                ok |= streq(c->image_name, v) ||
                                      strneq(c->image_id + strlen("sha256:"), v, strlen(v)) ||
                                      streq(c->image_id, v);
                                break;
                        }
                }
                if (seen && !ok)
                        return false;
        }
        return true;
}

static char *command_text(const struct container *c, bool full)
{
        json_object *cmd = container_cfg(c, "command");
        size_t len = 0;
        char *s;

        for (size_t i = 0; json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd);
             i++)
                len += strlen(json_object_get_string(json_object_array_get_idx(cmd, i))) + 1;
        s = calloc(1, len + 3);
        if (!s)
                return NULL;
        for (size_t i = 0; json_object_is_type(cmd, json_type_array) && i < json_object_array_length(cmd);
             i++)
                sprintf(s + strlen(s), "%s%s", i ? " " : "",
                        json_object_get_string(json_object_array_get_idx(cmd, i)));
        /* docker's table quotes the command and cuts it at 20 characters. */
        if (!full && strlen(s) > 20)
                strcpy(s + 19, "…");
        return s;
}

/* docker's `ps --format json` object. */
/* docker's PORTS column: "0.0.0.0:8080->80/tcp, ..." of a running container. */
static char *ports_text(struct engine *e, const struct container *c)
{
        _cleanup_free_ struct network_port *ports = NULL;
        char *text = NULL;
        size_t n = 0, len = 0;
        FILE *f;

        if (engine_container_ports(e, c, &ports, &n, NULL) < 0 || !(f = open_memstream(&text, &len)))
                return NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *one = network_port_format(&ports[i]);
                fprintf(f, "%s%s", i ? ", " : "", one ? one : "");
        }
        fclose(f);
        return text;
}

static json_object *ps_json(const struct container *c, const struct container_state *st, bool full,
                            const char *ports)
{
        json_object *o = json_object_new_object(), *labels = container_cfg(c, "labels");
        _cleanup_free_ char *cmd = command_text(c, full), *lab = NULL;
        char created[64], status[128], running[64], id[13];
        size_t len = 0;
        time_t t = (time_t)(c->created_ns / 1000000000LL);
        struct tm tm;

        strftime(created, sizeof(created), "%Y-%m-%d %H:%M:%S %z %Z", localtime_r(&t, &tm));
        ctr_status_text(st, status, sizeof(status));
        ctr_human_duration(time_now_ns() - c->created_ns, running, sizeof(running));
        strcat(running, " ago");
        json_object_object_foreach (labels, k, v) {
                len += strlen(k) + strlen(json_object_get_string(v)) + 2;
        }
        lab = calloc(1, len + 1);
        if (lab) {
                json_object_object_foreach (labels, k2, v2) {
                        sprintf(lab + strlen(lab), "%s%s=%s", *lab ? "," : "", k2,
                                json_object_get_string(v2));
                }
        }
        snprintf(id, sizeof(id), "%.12s", c->id);
        json_object_object_add(o, "Command", json_object_new_string(cmd ? cmd : ""));
        json_object_object_add(o, "CreatedAt", json_object_new_string(created));
        json_object_object_add(o, "ID", json_object_new_string(full ? c->id : id));
        json_object_object_add(o, "Image", json_object_new_string(c->image_name));
        json_object_object_add(o, "Labels", json_object_new_string(lab ? lab : ""));
        json_object_object_add(o, "Names", json_object_new_string(c->name));
        json_object_object_add(o, "Networks", json_object_new_string(""));
        json_object_object_add(o, "Ports", json_object_new_string(ports ? ports : ""));
        json_object_object_add(o, "RunningFor", json_object_new_string(running));
        json_object_object_add(o, "State", json_object_new_string(container_status_name(st->status)));
        json_object_object_add(o, "Status", json_object_new_string(status));
        json_object_object_add(o, "ExitCode", json_object_new_int(st->exit_code));
        return o;
}

int cmd_ps(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"all", no_argument, NULL, 'a'},
            {"filter", required_argument, NULL, 'f'},
            {"format", required_argument, NULL, 'F'},
            {"last", required_argument, NULL, 'n'},
            {"latest", no_argument, NULL, 'l'},
            {"no-trunc", no_argument, NULL, 'T'},
            {"quiet", no_argument, NULL, 'q'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct container **v = NULL;
        struct filter filters[32];
        size_t n = 0, n_filters = 0, shown = 0;
        const char *format = NULL;
        bool all = false, quiet = false, full = false;
        long last = -1;
        struct table *t = NULL;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haf:n:lq", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'f': {
                        char *eq = strchr(optarg, '=');
                        if (!eq || n_filters >= ARRAY_SIZE(filters))
                                return berth_usage_error(&usage, "--filter: want KEY=VALUE, got `%s`",
                                                         optarg);
                        *eq = '\0';
                        if (!streq(optarg, "id") && !streq(optarg, "name") && !streq(optarg, "label") &&
                            !streq(optarg, "status") && !streq(optarg, "exited") &&
                            !streq(optarg, "ancestor"))
                                return berth_usage_error(&usage, "--filter: unknown key `%s`", optarg);
                        if (streq(optarg, "status")) {
                                enum container_status s;
                                if (container_status_parse(eq + 1, &s) < 0)
                                        return berth_usage_error(&usage, "--filter: invalid status `%s`",
                                                                 eq + 1);
                        }
                        filters[n_filters++] = (struct filter){optarg, eq + 1};
                        break;
                }
                case 'F':
                        format = optarg;
                        break;
                case 'n':
                        last = strtol(optarg, NULL, 10);
                        break;
                case 'l':
                        last = 1;
                        break;
                case 'T':
                        full = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&usage, "\"berth ps\" accepts no arguments");
        if (berth_engine(ctx, &e, &err) < 0 || container_list(e->db, &v, &n, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (last >= 0)
                all = true;
        if (!quiet && (!format || streq(format, "table"))) {
                const char *hdr[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED",
                                     "STATUS",       "PORTS", "NAMES"};
                t = table_new(7);
                table_add(t, hdr);
        } else if (!quiet && format_is_table(format)) {
                format_table_header(format, stdout);
        }
        for (size_t i = 0; i < n && (last < 0 || shown < (size_t)last); i++) {
                struct container_state st;
                json_object *o;
                if (container_state_derive(e, v[i], &st, &err) < 0) {
                        ret = berth_fail(&err, EXIT_BERTH);
                        continue;
                }
                if ((!all && st.status != CONTAINER_RUNNING && st.status != CONTAINER_PAUSED &&
                     st.status != CONTAINER_RESTARTING) ||
                    !matches(v[i], &st, filters, n_filters)) {
                        container_state_done(&st);
                        continue;
                }
                shown++;
                {
                        _cleanup_free_ char *ports =
                            st.status == CONTAINER_RUNNING ? ports_text(e, v[i]) : NULL;
                        o = ps_json(v[i], &st, full, ports);
                }
                container_state_done(&st);
                if (quiet) {
                        printf("%s\n", json_object_get_string(json_object_object_get(o, "ID")));
                } else if (t) {
                        _cleanup_free_ char *cmd = NULL;
                        const char *cells[7];
                        if (asprintf(&cmd, "\"%s\"",
                                     json_object_get_string(json_object_object_get(o, "Command"))) < 0)
                                cmd = NULL;
                        cells[0] = json_object_get_string(json_object_object_get(o, "ID"));
                        cells[1] = v[i]->image_name;
                        cells[2] = cmd;
                        cells[3] = json_object_get_string(json_object_object_get(o, "RunningFor"));
                        cells[4] = json_object_get_string(json_object_object_get(o, "Status"));
                        cells[5] = json_object_get_string(json_object_object_get(o, "Ports"));
                        cells[6] = v[i]->name;
                        table_add(t, cells);
                } else if (streq(format, "json")) {
                        printf("%s\n", json_to_string(o, false));
                } else if (format_template(format, o, stdout, &err) < 0) {
                        json_object_put(o);
                        ret = berth_fail(&err, EXIT_BERTH);
                        break;
                }
                json_object_put(o);
        }
        if (t) {
                table_print(t, stdout);
                table_free(t);
        }
        container_freev(v, n);
        return ret;
}
