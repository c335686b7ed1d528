/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "berth-config.h"
#include "berth.h"
#include "engine/engine.h"
#include "engine/info.h"

static const struct berth_usage usage = {
    .usage = "berth info [options]",
    .summary = "Display system-wide information",
    .options = "  -f, --format FORMAT   json, or a Go template ('{{.NCPU}}')\n",
};

/* go-units BytesSize: "7.763GiB". */
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

static const char *s(json_object *o, const char *k)
{
        return json_object_get_string(json_object_object_get(o, k));
}

static long long i(json_object *o, const char *k)
{
        return (long long)json_object_get_int64(json_object_object_get(o, k));
}

static void print_text(json_object *o)
{
        json_object *ds = json_object_object_get(o, "DriverStatus"),
                    *rts = json_object_object_get(o, "Runtimes");
        json_object *sec = json_object_object_get(o, "SecurityOptions");
        char mem[32];

        printf("Client: berth\n Version:    %s\n\nServer:\n", BERTH_VERSION);
        printf(" Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n", i(o, "Containers"),
               i(o, "ContainersRunning"), i(o, "ContainersPaused"), i(o, "ContainersStopped"));
        printf(" Images: %lld\n Server Version: %s\n Storage Driver: %s\n", i(o, "Images"),
               s(o, "ServerVersion"), s(o, "Driver"));
        for (size_t k = 0; k < json_object_array_length(ds); k++) {
                json_object *p = json_object_array_get_idx(ds, k);
                printf("  %s: %s\n", json_object_get_string(json_object_array_get_idx(p, 0)),
                       json_object_get_string(json_object_array_get_idx(p, 1)));
        }
        printf(" Logging Driver: %s\n Cgroup Driver: %s\n Cgroup Version: %s\n Runtimes:",
               s(o, "LoggingDriver"), s(o, "CgroupDriver"), s(o, "CgroupVersion"));
        json_object_object_foreach (rts, name, r) {
                (void)r;
                printf(" %s", name);
        }
        printf("\n Default Runtime: %s\n Security Options:\n", s(o, "DefaultRuntime"));
        for (size_t k = 0; k < json_object_array_length(sec); k++)
                printf("  %s\n", json_object_get_string(json_object_array_get_idx(sec, k)));
        binary_size((uint64_t)i(o, "MemTotal"), mem, sizeof(mem));
        printf(" Kernel Version: %s\n Operating System: %s\n OSType: %s\n Architecture: %s\n CPUs: %lld\n"
               " Total Memory: %s\n Name: %s\n Root Dir: %s\n Run Root: %s\n",
               s(o, "KernelVersion"), s(o, "OperatingSystem"), s(o, "OSType"), s(o, "Architecture"),
               i(o, "NCPU"), mem, s(o, "Name"), s(o, "DockerRootDir"), s(o, "RunRoot"));
}

int cmd_info(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"format", required_argument, NULL, 'f'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        const char *format = NULL;
        json_object *o = NULL;
        struct engine *e;
        int c, ret = 0;

        optind = 0;
        while ((c = getopt_long(argc, argv, "hf:", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        berth_print_usage(stdout, &usage);
                        return 0;
                case 'f':
                        format = optarg;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return berth_usage_error(&usage, "\"berth info\" accepts no arguments");
        if (berth_engine(ctx, &e, &err) < 0 || engine_info(e, &o, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        json_object_object_add(o, "ServerVersion", json_object_new_string(BERTH_VERSION));
        if (!format)
                print_text(o);
        else if (streq(format, "json"))
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
        else if (format_template(format, o, stdout, &err) < 0)
                ret = berth_fail(&err, EXIT_BERTH);
        json_object_put(o);
        return ret;
}
