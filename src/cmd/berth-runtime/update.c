/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "commands.h"

/* A resources file is a small JSON object; anything near this is a mistake. */
#define RESOURCES_MAX (1u << 20)

enum kind { K_U64, K_I64, K_RAM, K_STR };

static const struct flag {
        const char *name;
        enum kind kind;
        const char *section, *key;
} flags[] = {
    {"blkio-weight", K_U64, "blockIO", "weight"},
    {"cpu-period", K_U64, "cpu", "period"},
    {"cpu-quota", K_I64, "cpu", "quota"},
    {"cpu-burst", K_U64, "cpu", "burst"},
    {"cpu-share", K_U64, "cpu", "shares"},
    {"cpu-shares", K_U64, "cpu", "shares"},
    {"cpu-rt-period", K_U64, "cpu", "realtimePeriod"},
    {"cpu-rt-runtime", K_I64, "cpu", "realtimeRuntime"},
    {"cpu-idle", K_I64, "cpu", "idle"},
    {"cpuset-cpus", K_STR, "cpu", "cpus"},
    {"cpuset-mems", K_STR, "cpu", "mems"},
    {"memory", K_RAM, "memory", "limit"},
    {"memory-reservation", K_RAM, "memory", "reservation"},
    {"memory-swap", K_RAM, "memory", "swap"},
    {"kernel-memory", K_RAM, "memory", "kernel"},
    {"kernel-memory-tcp", K_RAM, "memory", "kernelTCP"},
    {"pids-limit", K_I64, "pids", "limit"},
};

/* docker/go-units RAMInBytes, as runc takes it: "512m", "1.5GiB", "1024"; -1 is unlimited. */
static int parse_ram(const char *s, int64_t *out)
{
        static const char units[] = "kmgtp";
        const char *p = s, *u;
        double v, mult = 1;
        char *end;

        if (streq(s, "-1")) {
                *out = -1;
                return 0;
        }
        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        while (isdigit((unsigned char)*p))
                p++;
        if (*p == '.') {
                if (!isdigit((unsigned char)p[1]))
                        return -EINVAL;
                for (p++; isdigit((unsigned char)*p); p++)
                        ;
        }
        errno = 0;
        v = strtod(s, &end);
        if (errno || end != p)
                return -EINVAL;
        if (*p == ' ')
                p++;
        if (*p && (u = strchr(units, tolower((unsigned char)*p)))) {
                mult = pow(1024, (double)(u - units + 1));
                p++;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p)
                return -EINVAL;
        v *= mult;
        if (v >= 9223372036854775807.0)
                return -ERANGE;
        *out = (int64_t)v;
        return 0;
}

static int parse_int(const char *s, bool is_signed, json_object **out)
{
        char *end;

        errno = 0;
        if (!*s || isspace((unsigned char)*s))
                return -EINVAL;
        if (is_signed) {
                long long v = strtoll(s, &end, 10);
                if (errno || *end)
                        return -EINVAL;
                *out = json_object_new_int64(v);
        } else {
                unsigned long long v;
                if (*s == '-')
                        return -EINVAL;
                v = strtoull(s, &end, 10);
                if (errno || *end)
                        return -EINVAL;
                *out = json_object_new_uint64(v);
        }
        return 0;
}

static json_object *section(json_object *res, const char *name)
{
        json_object *o;

        if (json_object_object_get_ex(res, name, &o))
                return o;
        o = json_object_new_object();
        json_object_object_add(res, name, o);
        return o;
}

static int set_flag(json_object *res, const struct flag *f, const char *val)
{
        json_object *v = NULL;
        int64_t ram;

        switch (f->kind) {
        case K_STR:
                if (!*val)
                        return 0;
                v = json_object_new_string(val);
                break;
        case K_RAM:
                if (parse_ram(val, &ram) < 0)
                        return fail_msg("invalid value for --%s: `%s` (a size like 512m or -1)", f->name,
                                        val);
                v = json_object_new_int64(ram);
                break;
        case K_U64:
        case K_I64:
                if (parse_int(val, f->kind == K_I64, &v) < 0)
                        return fail_msg("invalid value for --%s: `%s`", f->name, val);
                break;
        }
        json_object_object_add(section(res, f->section), f->key, v);
        return 0;
}

static int read_resources(const char *path, json_object **out)
{
        _cleanup_free_ char *buf = NULL;
        struct berr *err = NULL;
        size_t len;
        int r = streq(path, "-") ? read_all_fd(STDIN_FILENO, RESOURCES_MAX, &buf, &len, &err)
                                 : read_file_at(AT_FDCWD, path, RESOURCES_MAX, &buf, &len, &err);

        if (r < 0 ||
            json_parse_buf(buf, len, streq(path, "-") ? "resources from stdin" : path, out, &err) < 0)
                return fail(err);
        if (!json_object_is_type(*out, json_type_object)) {
                json_object_put(*out);
                return fail_msg("%s: expected a JSON object of linux.resources", path);
        }
        return 0;
}

int cmd_update(struct runtime_ctx *ctx, int argc, char **argv)
{
        struct option opts[ARRAY_SIZE(flags) + 5] = {};
        json_object *res = json_object_new_object(), *from_file = NULL;
        const char *resources = NULL, *values[ARRAY_SIZE(flags)] = {};
        struct berr *err = NULL;
        size_t n = 0;
        int c, r = 0;

        for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
                opts[n++] = (struct option){flags[i].name, required_argument, NULL, 256 + (int)i};
        opts[n++] = (struct option){"resources", required_argument, NULL, 'r'};
        opts[n++] = (struct option){"l3-cache-schema", required_argument, NULL, 'L'};
        opts[n++] = (struct option){"mem-bw-schema", required_argument, NULL, 'M'};
        opts[n++] = (struct option){"help", no_argument, NULL, 'h'};
        while ((c = getopt_long(argc, argv, "r:h", opts, NULL)) != -1) {
                if (c >= 256 && c < 256 + (int)ARRAY_SIZE(flags))
                        values[c - 256] = optarg;
                else if (c == 'r')
                        resources = optarg;
                else if (c == 'L' || c == 'M') {
                        json_object_put(res);
                        return fail_msg("update: Intel RDT is not supported");
                } else {
                        json_object_put(res);
                        return usage(command_find("update"), c == 'h' ? 0 : 1);
                }
        }
        if (need_args("update", argc - optind, 1, 1)) {
                json_object_put(res);
                return 1;
        }
        /* As with runc, a resources file replaces every other option. */
        if (resources) {
                json_object_put(res);
                if (read_resources(resources, &from_file) != 0)
                        return 1;
                res = from_file;
        } else
                for (size_t i = 0; i < ARRAY_SIZE(flags) && r == 0; i++)
                        if (values[i])
                                r = set_flag(res, &flags[i], values[i]);
        if (r == 0 && container_update(ctx, argv[optind], res, &err) < 0)
                r = fail(err);
        json_object_put(res);
        return r;
}
