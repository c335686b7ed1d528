/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/strv.h"
#include "commands.h"

static int parse_uint(const char *s, uint32_t *out)
{
        char *end;
        unsigned long v;

        if (!s || !*s)
                return -EINVAL;
        v = strtoul(s, &end, 10);
        if (*end || v >= UINT32_MAX)
                return -EINVAL;
        *out = (uint32_t)v;
        return 0;
}

static int load_process_file(const char *path, struct oci_process *p, struct berr **err)
{
        _cleanup_free_ char *buf = NULL;
        json_object *o = NULL;
        size_t len;
        int r;

        if (read_file_at(AT_FDCWD, path, OCI_CONFIG_MAX, &buf, &len, err) < 0 ||
            json_parse_buf(buf, len, path, &o, err) < 0)
                return -1;
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return berr_make(err, 0, "%s: expected a JSON object", path);
        }
        r = oci_process_parse(o, "process", p, err);
        json_object_put(o);
        return r < 0 ? berr_wrap(err, "%s", path) : 0;
}

int cmd_exec(struct runtime_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
                {"console-socket", required_argument, NULL, 'C'},
                {"cwd", required_argument, NULL, 'w'},
                {"env", required_argument, NULL, 'e'},
                {"tty", no_argument, NULL, 't'},
                {"user", required_argument, NULL, 'u'},
                {"additional-gids", required_argument, NULL, 'g'},
                {"process", required_argument, NULL, 'p'},
                {"detach", no_argument, NULL, 'd'},
                {"pid-file", required_argument, NULL, 'P'},
                {"process-label", required_argument, NULL, 'L'},
                {"apparmor", required_argument, NULL, 'A'},
                {"no-new-privs", no_argument, NULL, 'n'},
                {"cap", required_argument, NULL, 'c'},
                {"preserve-fds", required_argument, NULL, 'F'},
                {"ignore-paused", no_argument, NULL, 'I'},
                {"cgroup", required_argument, NULL, 'G'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        const struct command *cmd = command_find("exec");
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_strv_free_ char **env = NULL, **caps = NULL, **gids = NULL;
        const char *cwd = NULL, *user = NULL, *process_file = NULL, *label = NULL, *apparmor = NULL;
        struct oci_process p = {};
        struct exec_opts o = {.process = &p};
        struct berr *err = NULL;
        bool tty = false, nnp = false;
        int c, status = 0, r;
        char *end;

        while ((c = getopt_long(argc, argv, "+w:e:tu:g:p:dc:h", opts, NULL)) != -1) {
                switch (c) {
                case 'C':
                        o.console_socket = optarg;
                        break;
                case 'w':
                        cwd = optarg;
                        break;
                case 'e':
                        if (!strchr(optarg, '='))
                                return fail_msg("--env: `%s` is not of the form KEY=value", optarg);
                        if (strv_extend(&env, optarg) < 0)
                                return fail_msg("out of memory");
                        break;
                case 't':
                        tty = true;
                        break;
                case 'u':
                        user = optarg;
                        break;
                case 'g':
                        if (strv_extend(&gids, optarg) < 0)
                                return fail_msg("out of memory");
                        break;
                case 'p':
                        process_file = optarg;
                        break;
                case 'd':
                        o.detach = true;
                        break;
                case 'P':
                        o.pid_file = optarg;
                        break;
                case 'L':
                        label = optarg;
                        break;
                case 'A':
                        apparmor = optarg;
                        break;
                case 'n':
                        nnp = true;
                        break;
                case 'c':
                        if (oci_cap_from_name(optarg) < 0)
                                return fail_msg("--cap: unknown capability `%s`", optarg);
                        if (strv_extend(&caps, optarg) < 0)
                                return fail_msg("out of memory");
                        break;
                case 'F':
                        o.preserve_fds = (int)strtol(optarg, &end, 10);
                        if (*end || o.preserve_fds < 0 || o.preserve_fds > 65536)
                                return fail_msg("--preserve-fds: invalid number `%s`", optarg);
                        break;
                case 'I':
                case 'G':
                        break;
                case 'h':
                        return usage(cmd, 0);
                default:
                        return usage(cmd, 1);
                }
        }
        if (need_args("exec", argc - optind, process_file ? 1 : 2, process_file ? 1 : -1))
                return 1;
        if (process_file) {
                r = load_process_file(process_file, &p, &err);
        } else {
                if (container_load(ctx, argv[optind], &ct, &err) < 0)
                        return fail(err);
                r = container_exec_template(ct, &p, &err);
                if (r == 0) {
                        strv_free(p.args);
                        p.args = NULL;
                        for (int i = optind + 1; i < argc && r == 0; i++)
                                r = strv_extend(&p.args, argv[i]);
                        STRV_FOREACH (e, env)
                                if (r == 0)
                                        r = strv_extend(&p.env, *e);
                        p.terminal = tty;
                        if (r < 0)
                                r = berr_make(&err, ENOMEM, "exec");
                }
                if (r == 0 && cwd) {
                        free(p.cwd);
                        p.cwd = strdup(cwd);
                }
                if (r == 0 && user) {
                        _cleanup_free_ char *u = strdup(user);
                        char *colon = u ? strchr(u, ':') : NULL;
                        if (colon)
                                *colon = '\0';
                        if (!u || parse_uint(u, &p.user.uid) < 0 || (colon && parse_uint(colon + 1, &p.user.gid) < 0))
                                r = berr_make(&err, 0, "--user: `%s` is not uid[:gid]", user);
                }
                if (r == 0 && gids) {
                        size_t n = strv_length(gids);
                        free(p.user.additional_gids);
                        p.user.additional_gids = calloc(n, sizeof(gid_t));
                        p.user.n_additional_gids = n;
                        for (size_t i = 0; i < n && r == 0; i++) {
                                uint32_t g;
                                if (parse_uint(gids[i], &g) < 0)
                                        r = berr_make(&err, 0, "--additional-gids: `%s` is not a number", gids[i]);
                                else
                                        p.user.additional_gids[i] = g;
                        }
                }
                STRV_FOREACH (cap, caps) {
                        uint64_t bit = UINT64_C(1) << oci_cap_from_name(*cap);
                        p.caps.present = true;
                        p.caps.bounding |= bit;
                        p.caps.effective |= bit;
                        p.caps.permitted |= bit;
                }
                if (nnp)
                        p.no_new_privileges = true;
                if (r == 0 && label) {
                        free(p.selinux_label);
                        p.selinux_label = strdup(label);
                }
                if (r == 0 && apparmor) {
                        free(p.apparmor_profile);
                        p.apparmor_profile = strdup(apparmor);
                }
        }
        if (r < 0) {
                oci_process_done(&p);
                return fail(err);
        }
        r = container_exec(ctx, argv[optind], &o, &status, &err);
        oci_process_done(&p);
        if (r < 0)
                return fail(err);
        return o.detach ? 0 : status;
}
