/* SPDX-License-Identifier: Apache-2.0 */
/* berth: daemonless docker/podman-like CLI. main() parses the global options and dispatches. */
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "basic/log.h"
#include "berth-config.h"
#include "berth.h"
#include "engine/engine.h"

#define DEFAULT_ROOT "/var/lib/berth"

static int cmd_image_group(struct berth_ctx *ctx, int argc, char **argv);
static int cmd_system_group(struct berth_ctx *ctx, int argc, char **argv);
static int cmd_container_group(struct berth_ctx *ctx, int argc, char **argv);
static int cmd_help(struct berth_ctx *ctx, int argc, char **argv);

/* Top-level commands; the engine adds its container commands here. */
static const struct berth_command commands[] = {
    {"help", cmd_help, "Show help", true},
    {"attach", cmd_attach, "Attach to a running container", false},
    {"commit", cmd_commit, "Create a new image from a container's changes", false},
    {"container", cmd_container_group, "Manage containers", false},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem", false},
    {"create", cmd_create, "Create but do not start a container", false},
    {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem", false},
    {"events", cmd_events, "Get real time events from berth", false},
    {"exec", cmd_exec, "Run a process in a running container", false},
    {"export", cmd_export, "Export a container's filesystem contents as a tar archive", false},
    {"history", cmd_history, "Show the history of an image", false},
    {"image", cmd_image_group, "Manage images", false},
    {"images", cmd_images, "List images in local storage", false},
    {"import", cmd_import, "Import a tarball to create a filesystem image", false},
    {"info", cmd_info, "Display system-wide information", false},
    {"inspect", cmd_inspect, "Display the configuration of containers or images", false},
    {"kill", cmd_kill, "Kill one or more running containers with a signal", false},
    {"load", cmd_load, "Load image(s) from a tar archive", false},
    {"login", cmd_login, "Log in to a container registry", false},
    {"logout", cmd_logout, "Log out of a container registry", false},
    {"logs", cmd_logs, "Fetch the logs of a container", false},
    {"network", cmd_network, "Manage networks", false},
    {"pause", cmd_pause, "Pause all processes within one or more containers", false},
    {"port", cmd_port, "List port mappings or a specific mapping for the container", false},
    {"ps", cmd_ps, "List containers", false},
    {"pull", cmd_pull, "Pull an image from a registry", false},
    {"push", cmd_push, "Push an image to a registry", false},
    {"rename", cmd_rename, "Rename a container", false},
    {"restart", cmd_restart, "Restart one or more containers", false},
    {"rm", cmd_rm, "Remove one or more containers", false},
    {"rmi", cmd_rmi, "Remove one or more images from local storage", false},
    {"run", cmd_run, "Run a command in a new container", false},
    {"save", cmd_save, "Save image(s) to an archive", false},
    {"start", cmd_start, "Start one or more containers", false},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics", false},
    {"stop", cmd_stop, "Stop one or more running containers", false},
    {"system", cmd_system_group, "Manage berth", false},
    {"tag", cmd_tag, "Add an additional name to a local image", false},
    {"top", cmd_top, "Display the running processes of a container", false},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers", false},
    {"update", cmd_update, "Update configuration of one or more containers", false},
    {"version", cmd_version, "Display the berth version information", false},
    {"volume", cmd_volume, "Manage volumes", false},
    {"wait", cmd_wait, "Block until containers stop, then print their exit codes", false},
};

static const struct berth_command container_commands[] = {
    {"attach", cmd_attach, "Attach to a running container", false},
    {"cleanup", cmd_container_cleanup, "Clean up after a container (the monitor's exit command)", true},
    {"commit", cmd_commit, "Create a new image from a container's changes", false},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem", false},
    {"create", cmd_create, "Create but do not start a container", false},
    {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem", false},
    {"exec", cmd_exec, "Run a process in a running container", false},
    {"export", cmd_export, "Export a container's filesystem contents as a tar archive", false},
    {"inspect", cmd_container_inspect, "Display the configuration of containers", false},
    {"kill", cmd_kill, "Kill one or more running containers with a signal", false},
    {"list", cmd_ps, "List containers", true},
    {"logs", cmd_logs, "Fetch the logs of a container", false},
    {"ls", cmd_ps, "List containers", false},
    {"pause", cmd_pause, "Pause all processes within one or more containers", false},
    {"port", cmd_port, "List port mappings or a specific mapping for the container", false},
    {"prune", cmd_container_prune, "Remove all stopped containers", false},
    {"ps", cmd_ps, "List containers", true},
    {"rename", cmd_rename, "Rename a container", false},
    {"restart", cmd_restart, "Restart one or more containers", false},
    {"rm", cmd_rm, "Remove one or more containers", false},
    {"run", cmd_run, "Run a command in a new container", false},
    {"start", cmd_start, "Start one or more containers", false},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics", false},
    {"stop", cmd_stop, "Stop one or more running containers", false},
    {"top", cmd_top, "Display the running processes of a container", false},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers", false},
    {"update", cmd_update, "Update configuration of one or more containers", false},
    {"wait", cmd_wait, "Block until containers stop, then print their exit codes", false},
};

static const struct berth_command image_commands[] = {
    {"history", cmd_history, "Show the history of an image", false},
    {"import", cmd_import, "Import a tarball to create a filesystem image", false},
    {"inspect", cmd_image_inspect, "Display the configuration of an image", false},
    {"list", cmd_images, "List images in local storage", true},
    {"load", cmd_load, "Load image(s) from a tar archive", false},
    {"ls", cmd_images, "List images in local storage", false},
    {"mount", cmd_image_mount, "Mount an image's root filesystem", false},
    {"prune", cmd_image_prune, "Remove unused images", false},
    {"pull", cmd_pull, "Pull an image from a registry", false},
    {"push", cmd_push, "Push an image to a registry", false},
    {"rm", cmd_rmi, "Remove one or more images from local storage", false},
    {"save", cmd_save, "Save image(s) to an archive", false},
    {"tag", cmd_tag, "Add an additional name to a local image", false},
    {"unmount", cmd_image_unmount, "Unmount an image's root filesystem", false},
    {"umount", cmd_image_unmount, "Unmount an image's root filesystem", true},
};

static const struct berth_command system_commands[] = {
    {"check", cmd_system_check, "Check storage consistency and repair what can be repaired", false},
    {"df", cmd_system_df, "Show berth disk usage", false},
    {"events", cmd_events, "Get real time events from berth", false},
    {"info", cmd_info, "Display system-wide information", false},
    {"prune", cmd_system_prune, "Remove unused data", false},
};

static void list_commands(FILE *f, const struct berth_command *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!v[i].hidden)
                        fprintf(f, "  %-12s %s\n", v[i].name, v[i].summary);
}

static void main_help(FILE *f)
{
        fprintf(f, "Manage containers and images\n\n"
                   "Usage:\n  berth [options] COMMAND\n\n"
                   "Available Commands:\n");
        list_commands(f, commands, ARRAY_SIZE(commands));
        fprintf(f, "\nOptions:\n"
                   "  -h, --help              help for berth\n"
                   "      --log-level LEVEL   error, warn, info or debug (default \"warn\")\n"
                   "      --config FILE       engine configuration (default \"" ENGINE_DEFAULT_CONFIG "\")\n"
                   "      --root DIR          storage root directory (default \"" DEFAULT_ROOT "\")\n"
                   "      --runroot DIR       state directory for running containers (default "
                   "\"" ENGINE_DEFAULT_RUNROOT "\")\n"
                   "  -v, --version           print the version\n\n"
                   "Run 'berth COMMAND --help' for more information on a command.\n");
}

static int dispatch(struct berth_ctx *ctx, const char *group, const struct berth_command *v, size_t n,
                    int argc, char **argv)
{
        if (argc < 1 || streq(argv[0], "--help") || streq(argv[0], "-h")) {
                if (group) {
                        FILE *f = argc < 1 ? stderr : stdout;
                        bool sys = streq(group, "system");
                        fprintf(f, "Manage %s%s\n\nUsage:\n  berth %s COMMAND\n\nAvailable Commands:\n",
                                sys ? "berth" : group, sys ? "" : "s", group);
                        list_commands(f, v, n);
                        return argc < 1 ? EXIT_BERTH : 0;
                }
                main_help(argc < 1 ? stderr : stdout);
                return argc < 1 ? EXIT_BERTH : 0;
        }
        for (size_t i = 0; i < n; i++)
                if (streq(v[i].name, argv[0]))
                        return v[i].run(ctx, argc, argv);
        if (group)
                return berth_failf(
                    EXIT_BERTH,
                    "unrecognized command `berth %s %s`\nTry 'berth %s --help' for more information", group,
                    argv[0], group);
        return berth_failf(
            EXIT_BERTH, "unrecognized command `berth %s`\nTry 'berth --help' for more information", argv[0]);
}

int berth_group(struct berth_ctx *ctx, const char *group, const struct berth_command *v, size_t n, int argc,
                char **argv)
{
        return dispatch(ctx, group, v, n, argc - 1, argv + 1);
}

static int cmd_image_group(struct berth_ctx *ctx, int argc, char **argv)
{
        return dispatch(ctx, "image", image_commands, ARRAY_SIZE(image_commands), argc - 1, argv + 1);
}

static int cmd_container_group(struct berth_ctx *ctx, int argc, char **argv)
{
        return dispatch(ctx, "container", container_commands, ARRAY_SIZE(container_commands), argc - 1,
                        argv + 1);
}

static int cmd_system_group(struct berth_ctx *ctx, int argc, char **argv)
{
        return dispatch(ctx, "system", system_commands, ARRAY_SIZE(system_commands), argc - 1, argv + 1);
}

static int cmd_help(struct berth_ctx *ctx, int argc, char **argv)
{
        char *help[] = {NULL, "--help", NULL};

        if (argc < 2) {
                main_help(stdout);
                return 0;
        }
        help[0] = argv[1];
        return dispatch(ctx, NULL, commands, ARRAY_SIZE(commands), 2, help);
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'v'},
            {"root", required_argument, NULL, 'r'},
            {"log-level", required_argument, NULL, 'l'},
            {"runroot", required_argument, NULL, 'R'},
            {"config", required_argument, NULL, 'c'},
            {},
        };
        struct berth_ctx ctx = {.root = DEFAULT_ROOT, .argv0 = argv[0]};
        enum log_level level = LOG_LEVEL_WARN;
        int c, ret;

        /* A closed pipe (berth images | head) ends output quietly. */
        signal(SIGPIPE, SIG_IGN);
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        main_help(stdout);
                        return 0;
                case 'v':
                        printf("berth version %s\n", BERTH_VERSION);
                        return 0;
                case 'r':
                        if (!*optarg)
                                return berth_failf(EXIT_BERTH, "--root must not be empty");
                        ctx.root = optarg;
                        break;
                case 'R':
                        if (!*optarg)
                                return berth_failf(EXIT_BERTH, "--runroot must not be empty");
                        ctx.runroot = optarg;
                        break;
                case 'c':
                        ctx.config = optarg;
                        break;
                case 'l':
                        if (log_parse_level(optarg, &level) < 0)
                                return berth_failf(EXIT_BERTH, "invalid log level `%s`", optarg);
                        break;
                default:
                        return berth_failf(EXIT_BERTH, "unknown flag: %s\nSee 'berth --help'",
                                           argv[optind - 1]);
                }
        }
        log_setup(-1, LOG_FORMAT_TEXT, level);
        ret = dispatch(&ctx, NULL, commands, ARRAY_SIZE(commands), argc - optind, argv + optind);
        if (fflush(stdout) != 0 && ret == 0)
                ret = EXIT_BERTH;
        engine_close(ctx.engine);
        image_store_free(ctx.store);
        return ret;
}
