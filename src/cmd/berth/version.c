/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>

#include "berth-config.h"
#include "berth.h"
#include "engine/info.h"
#include "image/manifest.h"

static const struct berth_usage usage = {
    .usage = "berth version [options]",
    .summary = "Display the berth version information",
    .options = "  -f, --format FORMAT   json, or a Go template ('{{.Client.Version}}')\n",
};

/* docker's shape: Client, and Server with its components (the programs a container runs with). */
static json_object *version_json(const struct engine_component comp[2])
{
        _cleanup_platform_ struct platform *p = NULL;
        json_object *o = json_object_new_object(), *client = json_object_new_object(),
                    *server = json_object_new_object(), *comps = json_object_new_array();
        _cleanup_berr_ struct berr *err = NULL;

        platform_host(&p, &err);
        json_object_object_add(client, "Version", json_object_new_string(BERTH_VERSION));
        json_object_object_add(client, "GitCommit", json_object_new_string(BERTH_COMMIT));
        json_object_object_add(client, "Os", json_object_new_string(p ? p->os : "linux"));
        json_object_object_add(client, "Arch", json_object_new_string(p ? p->architecture : ""));
        json_object_object_add(o, "Client", client);
        for (size_t i = 0; i < 2; i++) {
                json_object *c = json_object_new_object(), *d = json_object_new_object();
                json_object_object_add(c, "Name", json_object_new_string(comp[i].name));
                json_object_object_add(c, "Version",
                                       json_object_new_string(comp[i].version ? comp[i].version : ""));
                json_object_object_add(d, "Path", json_object_new_string(comp[i].path ? comp[i].path : ""));
                json_object_object_add(c, "Details", d);
                json_object_array_add(comps, c);
        }
        json_object_object_add(server, "Version", json_object_new_string(BERTH_VERSION));
        json_object_object_add(server, "Components", comps);
        json_object_object_add(o, "Server", server);
        return o;
}

int cmd_version(struct berth_ctx *ctx, int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'}, {"format", required_argument, NULL, 'f'}, {}};
        _cleanup_berr_ struct berr *err = NULL;
        struct engine_component comp[2];
        const char *format = NULL;
        json_object *o;
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
                return berth_usage_error(&usage, "\"berth version\" accepts no arguments");
        /* No store is opened: version works before anything is set up. */
        if (engine_versions(ctx->config, NULL, NULL, comp, &err) < 0)
                return berth_fail(&err, EXIT_BERTH);
        o = version_json(comp);
        if (format && streq(format, "json")) {
                printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
        } else if (format) {
                if (format_template(format, o, stdout, &err) < 0)
                        ret = berth_fail(&err, EXIT_BERTH);
        } else {
                json_object *cl = json_object_object_get(o, "Client");
                printf("Client: berth\n Version:       %s\n Git commit:    %s\n OS/Arch:       %s/%s\n\n"
                       "Server: berth (daemonless)\n",
                       BERTH_VERSION, BERTH_COMMIT, json_object_get_string(json_object_object_get(cl, "Os")),
                       json_object_get_string(json_object_object_get(cl, "Arch")));
                for (size_t i = 0; i < 2; i++)
                        printf(" %s:\n  Version:      %s\n  Path:         %s\n", comp[i].name,
                               comp[i].version ? comp[i].version : "(unknown)",
                               comp[i].path ? comp[i].path : "(not found)");
        }
        json_object_put(o);
        engine_component_done(&comp[0]);
        engine_component_done(&comp[1]);
        return ret;
}
