/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/log.h"
#include "basic/path.h"
#include "basic/strv.h"
#include "berth-config.h"
#include "monitor/server.h"
#include "monitor/status.h"

static const char usage[] =
    "Usage: berth-monitor --id ID --runtime PATH --bundle DIR --state-dir DIR [OPTION]...\n"
    "Creates a container with an OCI runtime and watches it for its whole life:\n"
    "logs its output, serves attach clients, records its exit, restarts it.\n"
    "\n"
    "  --id ID                    container id\n"
    "  --runtime PATH             runc-compatible runtime binary\n"
    "  --runtime-arg ARG          global option for the runtime (repeatable)\n"
    "  --runtime-root DIR         the runtime's --root\n"
    "  --bundle DIR               OCI bundle\n"
    "  --state-dir DIR            the monitor's files (state.json, attach socket, lock)\n"
    "  --log-driver DRIVER        k8s-file (default), json-file or none\n"
    "  --log-path FILE            container log\n"
    "  --log-size-max SIZE        rotate the log at SIZE bytes (k, m, g suffixes)\n"
    "  --log-max-files N          keep N log files, the live one included (default 1)\n"
    "  -t, --terminal             the container has a terminal (process.terminal)\n"
    "  -i, --stdin                keep the container's stdin open for attach clients\n"
    "      --stdin-once           close it when the first attach client leaves\n"
    "      --start                start the container after creating it\n"
    "      --cleanup              delete the container when it is done\n"
    "      --exit-command PATH    run PATH when the container is done\n"
    "      --exit-command-arg A   argument for it (repeatable)\n"
    "      --restart POLICY       no (default), on-failure[:N], always\n"
    "      --sync-fd N            report the container pid or the error there as one JSON line\n"
    "      --debug                debug messages in the state directory's monitor.log\n"
    "      --help, --version\n";

enum {
        OPT_ID = 256,
        OPT_RUNTIME,
        OPT_RUNTIME_ARG,
        OPT_RUNTIME_ROOT,
        OPT_BUNDLE,
        OPT_STATE_DIR,
        OPT_LOG_DRIVER,
        OPT_LOG_PATH,
        OPT_LOG_SIZE_MAX,
        OPT_LOG_MAX_FILES,
        OPT_STDIN_ONCE,
        OPT_START,
        OPT_CLEANUP,
        OPT_EXIT_COMMAND,
        OPT_EXIT_COMMAND_ARG,
        OPT_RESTART,
        OPT_SYNC_FD,
        OPT_DEBUG,
        OPT_HELP,
        OPT_VERSION,
};

static const struct option options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"runtime-arg", required_argument, NULL, OPT_RUNTIME_ARG},
    {"runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
    {"log-path", required_argument, NULL, OPT_LOG_PATH},
    {"log-size-max", required_argument, NULL, OPT_LOG_SIZE_MAX},
    {"log-max-files", required_argument, NULL, OPT_LOG_MAX_FILES},
    {"terminal", no_argument, NULL, 't'},
    {"stdin", no_argument, NULL, 'i'},
    {"stdin-once", no_argument, NULL, OPT_STDIN_ONCE},
    {"start", no_argument, NULL, OPT_START},
    {"cleanup", no_argument, NULL, OPT_CLEANUP},
    {"exit-command", required_argument, NULL, OPT_EXIT_COMMAND},
    {"exit-command-arg", required_argument, NULL, OPT_EXIT_COMMAND_ARG},
    {"restart", required_argument, NULL, OPT_RESTART},
    {"sync-fd", required_argument, NULL, OPT_SYNC_FD},
    {"debug", no_argument, NULL, OPT_DEBUG},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {},
};

struct args {
        struct monitor_config cfg;
        int sync_fd;
        bool debug;
        /* Owners of what cfg points to. */
        char **runtime_args, **exit_args, *abs[5];
};

static void args_done(struct args *a)
{
        strv_free(a->runtime_args);
        strv_free(a->exit_args);
        for (size_t i = 0; i < ARRAY_SIZE(a->abs); i++)
                free(a->abs[i]);
}

static int parse_size(const char *s, uint64_t *out)
{
        char *end;
        unsigned long long v;
        int shift = 0;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (end == s || *s == '-' || errno)
                return -EINVAL;
        switch (*end) {
        case 'k':
        case 'K':
                shift = 10;
                end++;
                break;
        case 'm':
        case 'M':
                shift = 20;
                end++;
                break;
        case 'g':
        case 'G':
                shift = 30;
                end++;
                break;
        }
        if (*end == 'b' || *end == 'B')
                end++;
        if (*end || v > (UINT64_MAX >> shift))
                return -EINVAL;
        *out = (uint64_t)v << shift;
        return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (end == s || *end || *s == '-' || errno || v > max)
                return -EINVAL;
        *out = (unsigned)v;
        return 0;
}

/* The monitor leaves its working directory; relative paths are made absolute first. */
static int absolute(const char **p, char **owner)
{
        char cwd[PATH_MAX];

        if (!*p || path_is_absolute(*p))
                return 0;
        if (!getcwd(cwd, sizeof(cwd)))
                return -errno;
        *owner = path_join(cwd, *p);
        if (!*owner)
                return -ENOMEM;
        *p = *owner;
        return 0;
}

_printf_(1, 2) static int fail_args(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "berth-monitor: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'berth-monitor --help'.\n");
        return -EINVAL;
}

/* 0: go on; 1: done (--help, --version); < 0: bad arguments. */
static int parse_args(int argc, char **argv, struct args *a)
{
        struct monitor_config *c = &a->cfg;
        _cleanup_berr_ struct berr *e = NULL;
        int o;

        c->log_driver = CTRLOG_K8S_FILE;
        c->log_max_files = 1;
        a->sync_fd = -1;
        while ((o = getopt_long(argc, argv, "ti", options, NULL)) >= 0) {
                switch (o) {
                case OPT_ID:
                        c->id = optarg;
                        break;
                case OPT_RUNTIME:
                        c->runtime = optarg;
                        break;
                case OPT_RUNTIME_ARG:
                        if (strv_extend(&a->runtime_args, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_RUNTIME_ROOT:
                        c->runtime_root = optarg;
                        break;
                case OPT_BUNDLE:
                        c->bundle = optarg;
                        break;
                case OPT_STATE_DIR:
                        c->state_dir = optarg;
                        break;
                case OPT_LOG_DRIVER:
                        if (ctrlog_parse_driver(optarg, &c->log_driver) < 0)
                                return fail_args("unknown log driver `%s` (k8s-file, json-file, none)",
                                                 optarg);
                        break;
                case OPT_LOG_PATH:
                        c->log_path = optarg;
                        break;
                case OPT_LOG_SIZE_MAX:
                        if (parse_size(optarg, &c->log_size_max) < 0)
                                return fail_args("--log-size-max `%s` is not a size", optarg);
                        break;
                case OPT_LOG_MAX_FILES:
                        if (parse_uint(optarg, CTRLOG_MAX_FILES, &c->log_max_files) < 0 ||
                            c->log_max_files == 0)
                                return fail_args("--log-max-files `%s` is not a count from 1 to 64", optarg);
                        break;
                case 't':
                        c->terminal = true;
                        break;
                case 'i':
                        c->stdin_open = true;
                        break;
                case OPT_STDIN_ONCE:
                        c->stdin_once = true;
                        break;
                case OPT_START:
                        c->start = true;
                        break;
                case OPT_CLEANUP:
                        c->cleanup = true;
                        break;
                case OPT_EXIT_COMMAND:
                        c->exit_command = optarg;
                        break;
                case OPT_EXIT_COMMAND_ARG:
                        if (strv_extend(&a->exit_args, optarg) < 0)
                                return -ENOMEM;
                        break;
                case OPT_RESTART:
                        if (restart_policy_parse(optarg, &c->restart, &e) < 0)
                                return fail_args("%s", e->msg);
                        break;
                case OPT_SYNC_FD: {
                        unsigned fd;
                        if (parse_uint(optarg, INT_MAX, &fd) < 0 || fd < 3 || fcntl((int)fd, F_GETFD) < 0)
                                return fail_args("--sync-fd `%s` is not an open fd above 2", optarg);
                        a->sync_fd = (int)fd;
                        break;
                }
                case OPT_DEBUG:
                        a->debug = true;
                        break;
                case OPT_HELP:
                        fputs(usage, stdout);
                        return 1;
                case OPT_VERSION:
                        printf("berth-monitor version %s\ncommit: %s\n", BERTH_VERSION, BERTH_COMMIT);
                        return 1;
                default:
                        return fail_args("%s", "bad option");
                }
        }
        if (optind < argc)
                return fail_args("unexpected argument `%s`", argv[optind]);
        if (!c->id || !c->runtime || !c->bundle || !c->state_dir)
                return fail_args("%s", "--id, --runtime, --bundle and --state-dir are required");
        if (c->log_driver != CTRLOG_NONE && !c->log_path)
                return fail_args("--log-driver %s needs --log-path", ctrlog_driver_name(c->log_driver));
        if (c->stdin_once && !c->stdin_open)
                return fail_args("%s", "--stdin-once needs --stdin");
        if (a->exit_args && !c->exit_command)
                return fail_args("%s", "--exit-command-arg needs --exit-command");
        c->runtime_args = a->runtime_args;
        c->exit_command_args = a->exit_args;
        if (absolute(&c->bundle, &a->abs[0]) < 0 || absolute(&c->state_dir, &a->abs[1]) < 0 ||
            absolute(&c->log_path, &a->abs[2]) < 0 || absolute(&c->runtime_root, &a->abs[3]) < 0 ||
            (strchr(c->runtime, '/') && absolute(&c->runtime, &a->abs[4]) < 0))
                return fail_args("%s", "cannot make the paths absolute");
        return 0;
}

/* One JSON line on the engine's sync fd: {"pid":N,"monitorPid":N} or {"error":"..."}. */
static void sync_report(int fd, pid_t pid, const char *error)
{
        json_object *o = json_object_new_object();
        const char *s;

        if (fd < 0 || !o)
                goto out;
        if (error) {
                json_object_object_add(o, "error", json_object_new_string(error));
        } else {
                json_object_object_add(o, "pid", json_object_new_int(pid));
                json_object_object_add(o, "monitorPid", json_object_new_int(getpid()));
        }
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        (void)write_all(fd, s, strlen(s));
        (void)write_all(fd, "\n", 1);
out:
        json_object_put(o);
}

/* Everything the monitor inherited but its stdio and the sync fd is closed. */
static void close_inherited(int keep)
{
        if (keep < 0) {
                close_range(3, ~0U, 0);
                return;
        }
        if (keep > 3)
                close_range(3, (unsigned)keep - 1, 0);
        close_range((unsigned)keep + 1, ~0U, 0);
        fcntl(keep, F_SETFD, FD_CLOEXEC);
}

/* The first process waits for the daemon's verdict, so that the caller gets an exit status. */
static int parent_wait(int status_fd)
{
        char buf[4096];
        ssize_t n = read_full(status_fd, buf, sizeof(buf) - 1);

        if (n > 0 && buf[0] == '0')
                return 0;
        if (n > 1) {
                buf[n] = '\0';
                fprintf(stderr, "berth-monitor: %s\n", buf + 1);
        } else {
                fprintf(stderr, "berth-monitor: the monitor died while setting up\n");
        }
        return 1;
}

static void daemon_stdio(void)
{
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                dup2(fd, i);
        if (fd > 2)
                close(fd);
}

int main(int argc, char **argv)
{
        _cleanup_berr_ struct berr *e = NULL;
        _cleanup_(args_done) struct args a = {0};
        _cleanup_monitor_ struct monitor *m = NULL;
        int status[2], r, logfd;
        pid_t pid;

        r = parse_args(argc, argv, &a);
        if (r != 0) {
                if (r < 0)
                        sync_report(a.sync_fd, 0, "bad arguments");
                return r < 0 ? 1 : 0;
        }
        close_inherited(a.sync_fd);
        if (mkdir_p(a.cfg.state_dir, 0700, &e) < 0) {
                fprintf(stderr, "berth-monitor: %s\n", e->msg);
                sync_report(a.sync_fd, 0, e->msg);
                return 1;
        }
        if (pipe2(status, O_CLOEXEC) < 0) {
                perror("berth-monitor: pipe");
                return 1;
        }
        pid = fork();
        if (pid < 0) {
                perror("berth-monitor: fork");
                return 1;
        }
        if (pid > 0) {
                close(status[1]);
                return parent_wait(status[0]);
        }
        close(status[0]);
        setsid();
        daemon_stdio();
        logfd = openat(AT_FDCWD, a.cfg.state_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (logfd >= 0) {
                int dfd = logfd;
                logfd = openat(dfd, MONITOR_LOG_FILE, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                close(dfd);
        }
        log_setup(logfd, LOG_FORMAT_TEXT, a.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
        if (chdir("/") < 0)
                log_warn("chdir /: %m");

        r = monitor_setup(&a.cfg, &m, &pid, &e);
        sync_report(a.sync_fd, pid, r < 0 ? e->msg : NULL);
        if (r < 0) {
                char msg[4096];
                int n = snprintf(msg, sizeof(msg), "1%s", e->msg);
                (void)write_all(status[1], msg, (size_t)MIN(n, (int)sizeof(msg) - 1));
                log_error("%s", e->msg);
                return 1;
        }
        (void)write_all(status[1], "0", 1);
        close(status[1]);
        if (a.sync_fd >= 0)
                close(a.sync_fd);

        r = monitor_run(m, &e);
        if (r < 0)
                log_error("%s", e->msg);
        return r < 0 ? 1 : 0;
}
