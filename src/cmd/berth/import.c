/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>

#include "basic/strv.h"
#include "berth.h"
#include "image/local.h"

static const struct berth_usage usage = {
    .usage = "berth import [options] FILE|- [REFERENCE]",
    .summary = "Import a tarball (optionally gzip or zstd compressed) to create a filesystem image",
    .options = "  -c, --change INSTRUCTION   apply CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, "
               "WORKDIR, STOPSIGNAL\n"
               "  -m, --message MESSAGE      commit message for the image's history\n"
               "  -q, --quiet                print only the image ID\n",
};

int cmd_import(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"change", required_argument, NULL, 'c'},
            {"message", required_argument, NULL, 'm'},
            {"quiet", no_argument, NULL, 'q'},
            {},
        };
        _cleanup_strv_free_ char **changes = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct import_opts io = {0};
        struct image_store *s;
        bool quiet = false;
        int c, fd;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hc:m:q", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'c':
                        if (strv_extend(&changes, optarg) < 0)
                                return berth_failf(EXIT_BERTH, "out of memory");
                        break;
                case 'm':
                        io.message = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return berth_usage_error(&usage, "\"berth import\" requires 1 or 2 arguments");
        io.changes = changes;
        io.name = argc - optind == 2 ? argv[optind + 1] : NULL;
        if (streq(argv[optind], "-")) {
                fd = STDIN_FILENO;
        } else {
                fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_failf(EXIT_BERTH, "open `%s`: %s", argv[optind], strerror(errno));
        }
        if (!quiet)
                fprintf(stderr, "Getting image source signatures\nCopying blob from %s\n",
                        fd == STDIN_FILENO ? "stdin" : argv[optind]);
        if (berth_store(ctx, &s, &err) < 0 || image_import(s, fd, &io, &id, &err) < 0) {
                if (fd != STDIN_FILENO)
                        close(fd);
                return berth_fail(&err, EXIT_BERTH);
        }
        if (fd != STDIN_FILENO)
                close(fd);
        if (!quiet)
                fprintf(stderr, "Writing manifest to image destination\n");
        berth_event(ctx, "image", "import", id, NULL);
        printf("%s\n", quiet ? id + 7 : id);
        return 0;
}
