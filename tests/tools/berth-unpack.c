/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test and benchmark driver for the layer unpacker and packer:
 *   berth-unpack [--overlay] [--userxattr] [--no-chown] [-c auto|none|gzip|zstd] [--chunk N] LAYER|- DEST
 *   berth-unpack --pack [--overlay-upper] [-c none|gzip|zstd] [--level N] [--clamp SECS] SRCDIR OUT|-
 * Prints "diff_id size entries" (unpack) or "digest diff_id size entries" (pack).
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "image/unpack.h"

static int parse_compression(const char *s, enum layer_compression *c, bool *sniff)
{
        *sniff = streq(s, "auto");
        if (*sniff || streq(s, "none"))
                *c = LAYER_UNCOMPRESSED;
        else if (streq(s, "gzip"))
                *c = LAYER_GZIP;
        else if (streq(s, "zstd"))
                *c = LAYER_ZSTD;
        else
                return -1;
        return 0;
}

static int do_unpack(int in, const char *dest, enum layer_compression c, bool sniff, size_t chunk,
                     const struct unpack_opts *o)
{
        _cleanup_layer_unpacker_ struct layer_unpacker *u = NULL;
        _cleanup_berr_ struct berr *err = NULL;
        _cleanup_close_ int dfd = open(dest, O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ unsigned char *buf = malloc(chunk);
        struct unpack_result res;
        bool first = true;

        if (dfd < 0 || !buf) {
                perror(dest);
                return 1;
        }
        for (;;) {
                ssize_t n = read(in, buf, chunk);
                if (n < 0) {
                        perror("read");
                        return 1;
                }
                if (first) {
                        if (sniff)
                                c = layer_compression_sniff(buf, (size_t)n);
                        if (layer_unpacker_new(dfd, c, o, &u, &err) < 0)
                                break;
                        first = false;
                }
                if (n == 0)
                        break;
                if (layer_unpacker_write(u, buf, (size_t)n, &err) < 0)
                        break;
        }
        if (!err && layer_unpacker_finish(u, &res, &err) == 0) {
                printf("%s %llu %llu\n", res.diff_id, (unsigned long long)res.uncompressed_size,
                       (unsigned long long)res.entries);
                return 0;
        }
        fprintf(stderr, "berth-unpack: %s\n", err && err->msg ? err->msg : "failed");
        return 1;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"overlay", no_argument, NULL, 'o'},    {"userxattr", no_argument, NULL, 'x'},
                {"no-chown", no_argument, NULL, 'n'},   {"chunk", required_argument, NULL, 'k'},
                {"pack", no_argument, NULL, 'p'},       {"overlay-upper", no_argument, NULL, 'u'},
                {"level", required_argument, NULL, 'l'}, {"clamp", required_argument, NULL, 't'},
                {NULL, 0, NULL, 0},
        };
        struct unpack_opts uo = {0};
        struct pack_opts po = {.mtime_clamp = -1};
        enum layer_compression c = LAYER_UNCOMPRESSED;
        bool sniff = true, pack = false, upper = false;
        size_t chunk = 256 * 1024;
        int opt;

        while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
                switch (opt) {
                case 'o':
                        uo.overlay_whiteouts = true;
                        break;
                case 'x':
                        uo.overlay_userxattr = true;
                        break;
                case 'n':
                        uo.no_chown = true;
                        break;
                case 'k':
                        chunk = strtoul(optarg, NULL, 10);
                        break;
                case 'p':
                        pack = true;
                        break;
                case 'u':
                        upper = true;
                        break;
                case 'l':
                        po.level = atoi(optarg);
                        break;
                case 't':
                        po.mtime_clamp = strtoll(optarg, NULL, 10);
                        break;
                case 'c':
                        if (parse_compression(optarg, &c, &sniff) == 0)
                                break;
                        /* fallthrough */
                default:
                        fprintf(stderr, "usage: see the comment at the top of berth-unpack.c\n");
                        return 2;
                }
        }
        if (argc - optind != 2 || chunk == 0) {
                fprintf(stderr, "usage: see the comment at the top of berth-unpack.c\n");
                return 2;
        }
        if (pack) {
                _cleanup_berr_ struct berr *err = NULL;
                _cleanup_close_ int src = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                int out = streq(argv[optind + 1], "-") ? STDOUT_FILENO
                                                       : open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                struct pack_result res;
                int r;
                if (src < 0 || out < 0) {
                        perror(src < 0 ? argv[optind] : argv[optind + 1]);
                        return 1;
                }
                r = upper ? layer_pack_overlay_upper(src, out, c, &po, &res, &err)
                          : layer_pack_dir(src, out, c, &po, &res, &err);
                if (r < 0) {
                        fprintf(stderr, "berth-unpack: %s\n", err->msg);
                        return 1;
                }
                fprintf(out == STDOUT_FILENO ? stderr : stdout, "%s %s %llu %llu\n", res.digest, res.diff_id,
                        (unsigned long long)res.size, (unsigned long long)res.entries);
                return 0;
        }
        {
                _cleanup_close_ int in = streq(argv[optind], "-") ? dup(STDIN_FILENO)
                                                                  : open(argv[optind], O_RDONLY | O_CLOEXEC);
                if (in < 0) {
                        perror(argv[optind]);
                        return 1;
                }
                return do_unpack(in, argv[optind + 1], c, sniff, chunk, &uo);
        }
}
