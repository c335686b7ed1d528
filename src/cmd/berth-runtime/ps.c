/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "basic/strv.h"
#include "commands.h"

/* Like runc: `ps` runs the host's ps(1) and keeps the header and the container's lines. */
static int ps_table(pid_t *pids, size_t n, char **ps_args)
{
        _cleanup_strv_free_ char **argv = NULL;
        char *line = NULL;
        size_t cap = 0;
        int pid_col = -1, status = 0;
        FILE *f;
        _cleanup_free_ char *cmd = NULL;
        size_t len = 0;

        if (strv_extend(&argv, "ps") < 0)
                return fail_msg("out of memory");
        if (!ps_args || !ps_args[0])
                strv_extend(&argv, "-ef");
        STRV_FOREACH (a, ps_args)
                strv_extend(&argv, *a);
        STRV_FOREACH (a, argv) {
                char *q;
                size_t l = strlen(*a);
                q = realloc(cmd, len + 4 * l + 4);
                if (!q)
                        return fail_msg("out of memory");
                cmd = q;
                cmd[len++] = '\'';
                for (const char *s = *a; *s; s++) {
                        if (*s == '\'') {
                                memcpy(cmd + len, "'\\''", 4);
                                len += 4;
                        } else {
                                cmd[len++] = *s;
                        }
                }
                cmd[len++] = '\'';
                cmd[len++] = ' ';
                cmd[len] = '\0';
        }
        f = popen(cmd, "re");
        if (!f)
                return fail_msg("run ps: %s", strerror(errno));
        for (bool header = true; getline(&line, &cap, f) > 0; header = false) {
                char *tok, *save = NULL, *copy = strdup(line);
                int col = 0;
                if (!copy)
                        break;
                for (tok = strtok_r(copy, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save), col++) {
                        if (header && streq(tok, "PID"))
                                pid_col = col;
                        else if (!header && col == pid_col) {
                                pid_t p = (pid_t)atoi(tok);
                                for (size_t i = 0; i < n; i++)
                                        if (pids[i] == p)
                                                fputs(line, stdout);
                                break;
                        }
                }
                free(copy);
                if (header) {
                        if (pid_col < 0) {
                                free(line);
                                pclose(f);
                                return fail_msg("ps: no PID column in the output of ps");
                        }
                        fputs(line, stdout);
                }
        }
        free(line);
        status = pclose(f);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int cmd_ps(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {}};
        _cleanup_container_ struct container *c = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        struct berr *err = NULL;
        bool json = false;
        size_t n = 0;
        int ch;

        while ((ch = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
                if (ch == 'f') {
                        if (streq(optarg, "json"))
                                json = true;
                        else if (!streq(optarg, "table"))
                                return fail_msg("invalid format option `%s`", optarg);
                } else {
                        return usage(command_find("ps"), ch == 'h' ? 0 : 1);
                }
        }
        if (need_args("ps", argc - optind, 1, -1))
                return 1;
        if (container_load(ctx, argv[optind], &c, &err) < 0 || container_pids(c, &pids, &n, &err) < 0)
                return fail(err);
        if (json) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(a, json_object_new_int(pids[i]));
                printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
                json_object_put(a);
                return 0;
        }
        return ps_table(pids, n, argv + optind + 1);
}
