/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "basic/json.h"
#include "basic/log.h"
#include "berth-config.h"
#include "commands.h"

static const struct command commands[] = {
        {"create", cmd_create, true, "create [options] <container-id>", "create a container"},
        {"delete", cmd_delete, false, "delete [--force] <container-id>", "delete a container and its resources"},
        {"events", cmd_events, false, "events [--stats] [--interval DURATION] <container-id>",
         "show OOM events and resource statistics"},
        {"exec", cmd_exec, true, "exec [options] <container-id> <command> [args...]", "run a process in a container"},
        {"features", cmd_features, false, "features", "show the enabled features"},
        {"kill", cmd_kill, false, "kill [--all] <container-id> [signal]", "send a signal to a container's init"},
        {"list", cmd_list, false, "list [--format table|json] [--quiet]", "list the containers"},
        {"pause", cmd_pause, false, "pause <container-id>", "freeze every process of a container"},
        {"ps", cmd_ps, false, "ps [--format table|json] <container-id> [ps options]", "list a container's processes"},
        {"resume", cmd_resume, false, "resume <container-id>", "thaw a paused container"},
        {"run", cmd_run, true, "run [options] <container-id>", "create and start a container"},
        {"spec", cmd_spec, false, "spec [--bundle DIR] [--rootless]", "write a new config.json"},
        {"start", cmd_start, false, "start <container-id>", "start a created container"},
        {"state", cmd_state, false, "state <container-id>", "output the state of a container"},
        {"update", cmd_update, false, "update [options] <container-id>", "change a container's cgroup limits"},
};

const struct command *command_find(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

int fail(struct berr *err)
{
        const char *msg = err && err->msg ? err->msg : "unknown error";

        if (log_fd() >= 0)
                log_error("%s", msg);
        fprintf(stderr, "berth-runtime: %s\n", msg);
        berr_free(err);
        return 1;
}

int fail_msg(const char *fmt, ...)
{
        struct berr *err = NULL;
        char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        berr_make(&err, 0, "%s", msg ? msg : fmt);
        free(msg);
        return fail(err);
}

int usage(const struct command *cmd, int status)
{
        fprintf(status ? stderr : stdout, "Usage: berth-runtime [global options] %s\n", cmd->usage);
        return status;
}

int need_args(const char *cmd, int have, int min, int max)
{
        if (have >= min && (max < 0 || have <= max))
                return 0;
        if (min == max)
                return fail_msg("%s: requires exactly %d argument%s", cmd, min, min == 1 ? "" : "s");
        return fail_msg("%s: requires at least %d argument%s", cmd, min, min == 1 ? "" : "s");
}

void print_json(json_object *o)
{
        printf("%s\n", json_to_string(o, true));
}

static void print_help(void)
{
        printf("berth-runtime: an OCI runtime (runc-compatible command line)\n\n"
               "Usage: berth-runtime [global options] command [command options] [arguments...]\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("   %-10s %s\n", commands[i].name, commands[i].summary);
        printf("\nGlobal options:\n"
               "   --root DIR             state directory (default " RUNTIME_DEFAULT_ROOT ")\n"
               "   --log FILE             log file (default stderr)\n"
               "   --log-format FORMAT    text or json (default text)\n"
               "   --debug                log debug messages\n"
               "   --systemd-cgroup       use systemd to manage cgroups (needs a reachable systemd)\n"
               "   --rootless auto|true|false  accepted for compatibility\n"
               "   --version, -v          print the version\n"
               "   --help, -h             show this help\n");
}

static void print_version(void)
{
        const struct scmp_version *v = seccomp_version();

        printf("berth-runtime version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n", BERTH_VERSION, BERTH_COMMIT,
               OCI_VERSION, v->major, v->minor, v->micro);
}

/* Make sure fds 0-2 and the fds we pass on exist, so nothing we open lands there. */
static void sanitize_fds(void)
{
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR);
                        if (n >= 0 && n != fd) {
                                dup2(n, fd);
                                close(n);
                        }
                }
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"root", required_argument, NULL, 'r'},
                {"log", required_argument, NULL, 'l'},
                {"log-format", required_argument, NULL, 'f'},
                {"log-level", required_argument, NULL, 'L'},
                {"debug", no_argument, NULL, 'd'},
                {"systemd-cgroup", no_argument, NULL, 's'},
                {"rootless", required_argument, NULL, 'R'},
                {"criu", required_argument, NULL, 'C'},
                {"version", no_argument, NULL, 'v'},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        struct runtime_ctx ctx = {.root = RUNTIME_DEFAULT_ROOT};
        const char *log_path = NULL;
        enum log_format fmt = LOG_FORMAT_TEXT;
        enum log_level level = LOG_LEVEL_WARN;
        const struct command *cmd;
        char **argv_all = argv;
        int c;

        sanitize_fds();
        /* A hook or console peer that goes away must not kill the runtime mid-way. */
        signal(SIGPIPE, SIG_IGN);
        /* Global options end at the command name. */
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (c) {
                case 'r':
                        ctx.root = optarg;
                        break;
                case 'l':
                        log_path = optarg;
                        break;
                case 'f':
                        if (streq(optarg, "json"))
                                fmt = LOG_FORMAT_JSON;
                        else if (!streq(optarg, "text"))
                                return fail_msg("unknown log format `%s` (want text or json)", optarg);
                        break;
                case 'L':
                        if (log_parse_level(optarg, &level) < 0)
                                return fail_msg("unknown log level `%s`", optarg);
                        break;
                case 'd':
                        level = LOG_LEVEL_DEBUG;
                        break;
                case 's':
                        ctx.systemd_cgroup = true;
                        break;
                case 'R':
                case 'C':
                        break;
                case 'v':
                        print_version();
                        return 0;
                case 'h':
                        print_help();
                        return 0;
                default:
                        print_help();
                        return 1;
                }
        }
        if (log_path && *log_path) {
                int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
                if (fd < 0)
                        return fail_msg("open log file `%s`: %s", log_path, strerror(errno));
                log_setup(fd, fmt, level);
        } else {
                log_setup(-1, fmt, level);
        }
        if (optind >= argc) {
                print_help();
                return 0;
        }
        cmd = command_find(argv[optind]);
        if (!cmd) {
                if (streq(argv[optind], "checkpoint") || streq(argv[optind], "restore"))
                        return fail_msg("%s: checkpoint/restore is not supported", argv[optind]);
                if (streq(argv[optind], "help")) {
                        print_help();
                        return 0;
                }
                return fail_msg("no such command: %s", argv[optind]);
        }
        if (cmd->spawns) {
                struct berr *err = NULL;
                if (runtime_reexec_sealed(argv_all, environ, &err) < 0)
                        return fail(err);
        }
        argv += optind;
        argc -= optind;
        optind = 1;
        return cmd->run(&ctx, argc, argv);
}
