/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "ctr-util.h"
#include "engine/copy.h"
#include "engine/engine.h"

static const struct berth_usage usage = {
    .usage = "berth cp [options] CONTAINER:SRC_PATH DEST_PATH|-\n"
             "  berth cp [options] SRC_PATH|- CONTAINER:DEST_PATH",
    .summary = "Copy files/folders between a container and the local filesystem",
    .options = "  -a, --archive       archive mode (copy all uid/gid information)\n"
               "  -L, --follow-link   always follow symbol link in SRC_PATH\n"
               "  -q, --quiet         suppress progress output (berth prints none)\n",
};

/* docker's rule: an absolute path or one starting with "." is local, else CONTAINER:PATH splits at the first
 * ':'. */
static char *split_container(const char *arg, const char **path)
{
        const char *colon = strchr(arg, ':');

        *path = arg;
        if (arg[0] == '/' || arg[0] == '.' || !colon)
                return NULL;
        *path = colon + 1;
        return strndup(arg, (size_t)(colon - arg));
}

int cmd_cp(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                             {"archive", no_argument, NULL, 'a'},
                                             {"follow-link", no_argument, NULL, 'L'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {}};
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_container_ struct container *ct = NULL;
        _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
        struct engine_copy_opts o = {0};
        const char *src, *dst;
        struct engine *e;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "haLq", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'a':
                        o.archive = true;
                        break;
                case 'L':
                        o.follow_link = true;
                        break;
                case 'q':
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind != 2)
                return berth_usage_error(&usage, "\"berth cp\" requires exactly 2 arguments");
        src_ctr = split_container(argv[optind], &src);
        dst_ctr = split_container(argv[optind + 1], &dst);
        if (src_ctr && dst_ctr)
                return berth_failf(EXIT_BERTH, "copying between containers is not supported");
        if (!src_ctr && !dst_ctr)
                return berth_failf(EXIT_BERTH, "must specify at least one container source");
        if ((src_ctr && !*src_ctr) || (dst_ctr && !*dst_ctr))
                return berth_usage_error(&usage, "empty container name");
        if (!*src || !*dst)
                return berth_failf(EXIT_BERTH, "filesystem paths must not be empty");
        if (berth_engine(ctx, &e, &err) < 0 || ctr_lookup(e, src_ctr ? src_ctr : dst_ctr, &ct, &err) <= 0)
                return berth_fail(&err, EXIT_BERTH);
        if (src_ctr)
                r = engine_copy_from_container(e, ct, src, streq(dst, "-") ? NULL : dst, STDOUT_FILENO, &o,
                                               &err);
        else
                r = engine_copy_to_container(e, ct, streq(src, "-") ? NULL : src, STDIN_FILENO, dst, &o,
                                             &err);
        return r < 0 ? berth_fail(&err, EXIT_BERTH) : 0;
}
