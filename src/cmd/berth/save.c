/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "berth.h"
#include "image/archive.h"

static const struct berth_usage save_usage = {
    .usage = "berth save [options] IMAGE [IMAGE...]",
    .summary = "Save image(s) to an archive",
    .options = "      --format FORMAT   docker-archive (default), oci-archive or oci-dir\n"
               "      --gzip            gzip the archive (also when OUTPUT ends in .gz or .tgz)\n"
               "  -o, --output FILE     write to FILE (a directory for oci-dir) instead of stdout\n"
               "  -q, --quiet           print nothing but errors\n",
};

static const struct berth_usage load_usage = {
    .usage = "berth load [options]",
    .summary = "Load image(s) from a tar archive (docker-archive or oci-archive, optionally compressed)",
    .options = "  -i, --input FILE   read from FILE (or an oci-dir directory) instead of stdin\n"
               "  -q, --quiet        print nothing but errors\n",
};

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

int cmd_save(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"format", required_argument, NULL, 'F'},
            {"gzip", no_argument, NULL, 'z'},
            {"output", required_argument, NULL, 'o'},
            {"quiet", no_argument, NULL, 'q'},
            {"compress", no_argument, NULL, 'z'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        struct save_opts so = {.format = ARCHIVE_DOCKER};
        const char *output = NULL;
        _cleanup_free_ char *tmp = NULL;
        struct image_store *s;
        int c, fd = STDOUT_FILENO;

        optind = 0;
        while ((c = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &save_usage);
                        return 0;
                case 'F':
                        if (archive_format_parse(optarg, &so.format, &err) < 0)
                                return berth_fail(&err, EXIT_BERTH);
                        break;
                case 'z':
                        so.gzip = true;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'q':
                        break;
                default:
                        return berth_usage_error(&save_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&save_usage, "\"berth save\" requires at least 1 argument");
        if (so.format == ARCHIVE_OCI_DIR && !output)
                return berth_usage_error(&save_usage, "--format oci-dir needs --output DIR");
        if (output && (ends_with(output, ".gz") || ends_with(output, ".tgz")))
                so.gzip = true;
        if (!output && isatty(STDOUT_FILENO))
                return berth_failf(EXIT_BERTH, "refusing to save to a terminal. Use the -o flag or redirect");
        if (berth_store(ctx, &s, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        if (output && so.format != ARCHIVE_OCI_DIR) {
                /* Written next to the target and renamed: a failed save leaves no half archive. */
                if (asprintf(&tmp, "%s.berth-tmp", output) < 0)
                        return berth_failf(EXIT_BERTH, "out of memory");
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return berth_failf(EXIT_BERTH, "create `%s`: %s", tmp, strerror(errno));
        }
        if (image_save(s, argv + optind, &so, so.format == ARCHIVE_OCI_DIR ? -1 : fd, output, &err) < 0) {
                if (tmp) {
                        close(fd);
                        unlink(tmp);
                }
                return berth_fail(&err, EXIT_BERTH);
        }
        if (tmp) {
                if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, output) < 0) {
                        unlink(tmp);
                        return berth_failf(EXIT_BERTH, "write `%s`: %s", output, strerror(errno));
                }
        }
        for (int i = optind; i < argc; i++)
                berth_event(ctx, "image", "save", argv[i], (const char *const[]){"name", argv[i], NULL});
        return 0;
}

int cmd_load(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"input", required_argument, NULL, 'i'},
            {"quiet", no_argument, NULL, 'q'},
            {},
        };
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_strv_free_ char **loaded = NULL;
        const char *input = NULL, *dir = NULL;
        struct image_store *s;
        bool quiet = false;
        int c, fd = STDIN_FILENO, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hi:q", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &load_usage);
                        return 0;
                case 'i':
                        input = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                default:
                        return berth_usage_error(&load_usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&load_usage, "\"berth load\" takes no arguments (use -i FILE)");
        if (!input && isatty(STDIN_FILENO))
                return berth_failf(EXIT_BERTH, "cannot read from a terminal. Use the -i flag or redirect");
        if (input) {
                struct stat st;
                if (stat(input, &st) == 0 && S_ISDIR(st.st_mode)) {
                        dir = input;
                } else {
                        fd = open(input, O_RDONLY | O_CLOEXEC);
                        if (fd < 0)
                                return berth_failf(EXIT_BERTH, "open `%s`: %s", input, strerror(errno));
                }
        }
        r = berth_store(ctx, &s, &err);
        if (r == 0)
                r = image_load(s, fd, dir, &loaded, &err);
        if (fd != STDIN_FILENO)
                close(fd);
        if (r < 0)
                return berth_fail(&err, EXIT_BERTH);
        STRV_FOREACH (n, loaded) {
                berth_event(ctx, "image", "load", *n, (const char *const[]){"name", *n, NULL});
                if (!quiet)
                        printf("Loaded image: %s\n", *n);
        }
        return 0;
}
