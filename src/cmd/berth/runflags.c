/* SPDX-License-Identifier: Apache-2.0 */
#include <getopt.h>
#include <string.h>
#include <sys/ioctl.h>

#include "basic/strv.h"
#include "runflags.h"

enum {
        O_RM = OPT_REGISTRY_LAST + 1,
        O_NAME,
        O_ENV_FILE,
        O_GROUP_ADD,
        O_ENTRYPOINT,
        O_MOUNT,
        O_NETWORK,
        O_ADD_HOST,
        O_DNS,
        O_DNS_SEARCH,
        O_DNS_OPTION,
        O_CAP_ADD,
        O_CAP_DROP,
        O_PRIVILEGED,
        O_SECURITY_OPT,
        O_READ_ONLY,
        O_TMPFS,
        O_INIT,
        O_MEMORY_RES,
        O_MEMORY_SWAP,
        O_CPUS,
        O_CPU_QUOTA,
        O_CPU_PERIOD,
        O_CPUSET_CPUS,
        O_CPUSET_MEMS,
        O_PIDS_LIMIT,
        O_ULIMIT,
        O_DEVICE,
        O_SHM_SIZE,
        O_SYSCTL,
        O_ANNOTATION,
        O_STOP_SIGNAL,
        O_STOP_TIMEOUT,
        O_IPC,
        O_PID,
        O_UTS,
        O_USERNS,
        O_CGROUPNS,
        O_CGROUP_PARENT,
        O_RESTART,
        O_LOG_DRIVER,
        O_LOG_OPT,
        O_RUNTIME,
        O_PLATFORM,
        O_PULL,
        O_DETACH_KEYS,
        O_SIG_PROXY,
        O_EXPOSE,
        O_HELP,
};

static const struct option options[] = {
    {"help", no_argument, NULL, O_HELP},
    {"detach", no_argument, NULL, 'd'},
    {"interactive", no_argument, NULL, 'i'},
    {"tty", no_argument, NULL, 't'},
    {"rm", no_argument, NULL, O_RM},
    {"name", required_argument, NULL, O_NAME},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, O_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"group-add", required_argument, NULL, O_GROUP_ADD},
    {"entrypoint", required_argument, NULL, O_ENTRYPOINT},
    {"volume", required_argument, NULL, 'v'},
    {"mount", required_argument, NULL, O_MOUNT},
    {"network", required_argument, NULL, O_NETWORK},
    {"net", required_argument, NULL, O_NETWORK},
    {"hostname", required_argument, NULL, 'h'},
    {"add-host", required_argument, NULL, O_ADD_HOST},
    {"dns", required_argument, NULL, O_DNS},
    {"dns-search", required_argument, NULL, O_DNS_SEARCH},
    {"dns-option", required_argument, NULL, O_DNS_OPTION},
    {"cap-add", required_argument, NULL, O_CAP_ADD},
    {"cap-drop", required_argument, NULL, O_CAP_DROP},
    {"privileged", no_argument, NULL, O_PRIVILEGED},
    {"security-opt", required_argument, NULL, O_SECURITY_OPT},
    {"read-only", no_argument, NULL, O_READ_ONLY},
    {"tmpfs", required_argument, NULL, O_TMPFS},
    {"init", no_argument, NULL, O_INIT},
    {"memory", required_argument, NULL, 'm'},
    {"memory-reservation", required_argument, NULL, O_MEMORY_RES},
    {"memory-swap", required_argument, NULL, O_MEMORY_SWAP},
    {"cpus", required_argument, NULL, O_CPUS},
    {"cpu-shares", required_argument, NULL, 'c'},
    {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
    {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
    {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
    {"pids-limit", required_argument, NULL, O_PIDS_LIMIT},
    {"ulimit", required_argument, NULL, O_ULIMIT},
    {"device", required_argument, NULL, O_DEVICE},
    {"shm-size", required_argument, NULL, O_SHM_SIZE},
    {"sysctl", required_argument, NULL, O_SYSCTL},
    {"label", required_argument, NULL, 'l'},
    {"annotation", required_argument, NULL, O_ANNOTATION},
    {"stop-signal", required_argument, NULL, O_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, O_STOP_TIMEOUT},
    {"ipc", required_argument, NULL, O_IPC},
    {"pid", required_argument, NULL, O_PID},
    {"uts", required_argument, NULL, O_UTS},
    {"userns", required_argument, NULL, O_USERNS},
    {"cgroupns", required_argument, NULL, O_CGROUPNS},
    {"cgroup-parent", required_argument, NULL, O_CGROUP_PARENT},
    {"restart", required_argument, NULL, O_RESTART},
    {"log-driver", required_argument, NULL, O_LOG_DRIVER},
    {"log-opt", required_argument, NULL, O_LOG_OPT},
    {"runtime", required_argument, NULL, O_RUNTIME},
    {"platform", required_argument, NULL, O_PLATFORM},
    {"pull", required_argument, NULL, O_PULL},
    {"detach-keys", required_argument, NULL, O_DETACH_KEYS},
    {"sig-proxy", optional_argument, NULL, O_SIG_PROXY},
    {"publish", required_argument, NULL, 'p'},
    {"publish-all", no_argument, NULL, 'P'},
    {"expose", required_argument, NULL, O_EXPOSE},
    REGISTRY_LONG_OPTIONS,
    {},
};

static const char help_options[] =
    "      --add-host HOST:IP        add a line to /etc/hosts\n"
    "      --annotation KEY=VALUE    OCI annotation\n"
    "      --cap-add CAP, --cap-drop CAP\n"
    "      --cgroup-parent PATH      cgroup to put the container under (default /berth)\n"
    "      --cgroupns host|private\n"
    "  -c, --cpu-shares N, --cpus N, --cpu-quota N, --cpu-period N, --cpuset-cpus L, --cpuset-mems L\n"
    "  -d, --detach                  run in the background and print the container ID (run)\n"
    "      --detach-keys KEYS        keys to detach (default \"ctrl-p,ctrl-q\")\n"
    "      --device HOST[:CTR][:rwm]\n"
    "      --dns IP, --dns-search DOMAIN, --dns-option OPT\n"
    "  -e, --env NAME[=VALUE], --env-file FILE\n"
    "      --entrypoint CMD          replace the image's entrypoint\n"
    "      --expose PORT[/PROTO]     expose a port (or a range) without publishing it\n"
    "      --group-add GROUP\n"
    "  -h, --hostname NAME\n"
    "      --init                    run an init (catatonit) as PID 1\n"
    "  -i, --interactive             keep stdin open\n"
    "      --ipc MODE, --pid MODE, --uts MODE, --userns MODE\n"
    "  -l, --label KEY[=VALUE]\n"
    "      --log-driver DRIVER       k8s-file, json-file or none\n"
    "      --log-opt max-size=SIZE|max-file=N\n"
    "  -m, --memory SIZE, --memory-reservation SIZE, --memory-swap SIZE\n"
    "      --mount type=bind|volume|tmpfs,...\n"
    "      --name NAME\n"
    "      --network MODE            bridge (default), none, host, NAME, container:NAME\n"
    "      --pids-limit N\n"
    "  -p, --publish [[IP:][HOST_PORT]:]PORT[/PROTO]\n"
    "                                publish a container's port on the host\n"
    "  -P, --publish-all             publish every exposed port on a free host port\n"
    "      --platform OS/ARCH        for a pull\n"
    "      --privileged\n"
    "      --pull POLICY             missing (default), always, never\n"
    "      --read-only               mount the root filesystem read-only\n"
    "      --restart POLICY          no, on-failure[:N], always\n"
    "      --rm                      remove the container when it exits\n"
    "      --runtime NAME|PATH       OCI runtime (default berth-runtime)\n"
    "      --security-opt OPT        seccomp=PROFILE|unconfined, no-new-privileges\n"
    "      --shm-size SIZE\n"
    "      --sig-proxy BOOL          pass received signals to the container (default true)\n"
    "      --stop-signal SIG, --stop-timeout SECONDS\n"
    "      --sysctl NAME=VALUE\n"
    "      --tmpfs PATH[:OPTS]\n"
    "  -t, --tty                     allocate a terminal\n"
    "      --ulimit NAME=SOFT[:HARD]\n"
    "  -u, --user USER[:GROUP]\n"
    "  -v, --volume [SRC:]DST[:OPTS] bind mount (SRC a path) or volume (SRC a name, none: anonymous)\n"
    "  -w, --workdir DIR\n" REGISTRY_OPTIONS_HELP;

#define LIST(field)                                                                                          \
        do {                                                                                                 \
                if (strv_extend(&f->field, optarg) < 0)                                                      \
                        return berth_failf(EXIT_BERTH, "out of memory");                                     \
        } while (0)

void run_flags_done(struct run_flags *f)
{
        char **const lists[] = {f->env,         f->env_files,   f->group_add, f->add_hosts, f->dns,
                                f->dns_search,  f->dns_options, f->cap_add,   f->cap_drop,  f->security_opts,
                                f->tmpfs,       f->ulimits,     f->devices,   f->sysctls,   f->labels,
                                f->annotations, f->log_opts,    f->publish,   f->expose};

        for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
                strv_free(lists[i]);
        for (size_t i = 0; i < f->n_mounts; i++)
                engine_mount_done(&f->mounts[i]);
        free(f->mounts);
        registry_flags_clear(&f->rf);
}

static int add_mount(struct run_flags *f, const char *spec, bool volume)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct engine_mount m, *n;

        if ((volume ? engine_mount_parse_volume(spec, &m, &err) : engine_mount_parse_mount(spec, &m, &err)) <
            0)
                return berth_fail(&err, EXIT_BERTH);
        n = realloc(f->mounts, (f->n_mounts + 1) * sizeof(*n));
        if (!n) {
                engine_mount_done(&m);
                return berth_failf(EXIT_BERTH, "out of memory");
        }
        f->mounts = n;
        f->mounts[f->n_mounts++] = m;
        return 0;
}

int run_flags_parse(int argc, char **argv, bool run, struct run_flags *f, int *image_index)
{
        const struct berth_usage usage = {
            .usage = run ? "berth run [options] IMAGE [COMMAND [ARG...]]"
                         : "berth create [options] IMAGE [COMMAND [ARG...]]",
            .summary = run ? "Run a command in a new container" : "Create but do not start a container",
            .options = help_options,
        };
        struct engine_run_opts *o = &f->co.run;
        int c;

        *f = (struct run_flags){.sig_proxy = true, .rf = REGISTRY_FLAGS_INIT};
        optind = 0;
        /* "+": options end at the image; "-h" is --hostname, as in docker. */
        while ((c = getopt_long(argc, argv, "+ditv:e:w:u:h:m:c:l:p:P", options, NULL)) != -1) {
                bool b;
                switch (c) {
                case O_HELP:
                        berth_print_usage(stdout, &usage);
                        return -1;
                case 'd':
                        if (!run)
                                return berth_usage_error(&usage, "unknown flag: -d");
                        f->detach = true;
                        break;
                case 'i':
                        o->interactive = true;
                        break;
                case 't':
                        o->tty = true;
                        break;
                case O_RM:
                        f->co.rm = true;
                        break;
                case O_NAME:
                        f->co.name = optarg;
                        break;
                case 'e':
                        LIST(env);
                        break;
                case O_ENV_FILE:
                        LIST(env_files);
                        break;
                case 'w':
                        o->workdir = optarg;
                        break;
                case 'u':
                        o->user = optarg;
                        break;
                case O_GROUP_ADD:
                        LIST(group_add);
                        break;
                case O_ENTRYPOINT:
                        o->entrypoint = optarg;
                        break;
                case 'v':
                case O_MOUNT:
                        if (add_mount(f, optarg, c == 'v'))
                                return EXIT_BERTH;
                        break;
                case O_NETWORK:
                        o->network = optarg;
                        break;
                case 'h':
                        o->hostname = optarg;
                        break;
                case O_ADD_HOST:
                        LIST(add_hosts);
                        break;
                case O_DNS:
                        LIST(dns);
                        break;
                case O_DNS_SEARCH:
                        LIST(dns_search);
                        break;
                case O_DNS_OPTION:
                        LIST(dns_options);
                        break;
                case O_CAP_ADD:
                        LIST(cap_add);
                        break;
                case O_CAP_DROP:
                        LIST(cap_drop);
                        break;
                case O_PRIVILEGED:
                        o->privileged = true;
                        break;
                case O_SECURITY_OPT:
                        LIST(security_opts);
                        break;
                case O_READ_ONLY:
                        o->read_only = true;
                        break;
                case O_TMPFS:
                        LIST(tmpfs);
                        break;
                case O_INIT:
                        o->init = true;
                        break;
                case 'm':
                        o->memory = optarg;
                        break;
                case O_MEMORY_RES:
                        o->memory_reservation = optarg;
                        break;
                case O_MEMORY_SWAP:
                        o->memory_swap = optarg;
                        break;
                case O_CPUS:
                        o->cpus = optarg;
                        break;
                case 'c':
                        o->cpu_shares = optarg;
                        break;
                case O_CPU_QUOTA:
                        o->cpu_quota = optarg;
                        break;
                case O_CPU_PERIOD:
                        o->cpu_period = optarg;
                        break;
                case O_CPUSET_CPUS:
                        o->cpuset_cpus = optarg;
                        break;
                case O_CPUSET_MEMS:
                        o->cpuset_mems = optarg;
                        break;
                case O_PIDS_LIMIT:
                        o->pids_limit = optarg;
                        break;
                case O_ULIMIT:
                        LIST(ulimits);
                        break;
                case O_DEVICE:
                        LIST(devices);
                        break;
                case O_SHM_SIZE:
                        o->shm_size = optarg;
                        break;
                case O_SYSCTL:
                        LIST(sysctls);
                        break;
                case 'l':
                        LIST(labels);
                        break;
                case O_ANNOTATION:
                        LIST(annotations);
                        break;
                case O_STOP_SIGNAL:
                        o->stop_signal = optarg;
                        break;
                case O_STOP_TIMEOUT:
                        f->co.stop_timeout = optarg;
                        break;
                case O_IPC:
                        o->ipc = optarg;
                        break;
                case O_PID:
                        o->pid = optarg;
                        break;
                case O_UTS:
                        o->uts = optarg;
                        break;
                case O_USERNS:
                        o->userns = optarg;
                        break;
                case O_CGROUPNS:
                        o->cgroupns = optarg;
                        break;
                case O_CGROUP_PARENT:
                        o->cgroup_parent = optarg;
                        break;
                case O_RESTART:
                        f->co.restart = optarg;
                        break;
                case O_LOG_DRIVER:
                        f->co.log_driver = optarg;
                        break;
                case O_LOG_OPT:
                        LIST(log_opts);
                        break;
                case O_RUNTIME:
                        f->co.runtime = optarg;
                        break;
                case O_PLATFORM:
                        f->co.platform = optarg;
                        break;
                case O_PULL:
                        f->co.pull = optarg;
                        break;
                case O_DETACH_KEYS:
                        f->detach_keys = optarg;
                        break;
                case 'p':
                        LIST(publish);
                        break;
                case 'P':
                        f->co.publish_all = true;
                        break;
                case O_EXPOSE:
                        LIST(expose);
                        break;
                case O_SIG_PROXY:
                        if (parse_bool(optarg, &b) < 0)
                                return berth_usage_error(&usage, "--sig-proxy: invalid boolean `%s`", optarg);
                        f->sig_proxy = b;
                        break;
                case OPT_TLS_VERIFY:
                case OPT_CERT_DIR:
                case OPT_AUTHFILE:
                case OPT_CREDS:
                        if (registry_flags_parse(&f->rf, c, optarg) < 0)
                                return EXIT_BERTH;
                        break;
                default:
                        return berth_usage_error(&usage, "unknown flag: %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return berth_usage_error(&usage, "\"berth %s\" requires at least 1 argument",
                                         run ? "run" : "create");
        *image_index = optind;
        f->co.image = argv[optind];
        o->cmd = optind + 1 < argc ? (const char *const *)argv + optind + 1 : NULL;
        o->env = (const char *const *)f->env;
        o->env_files = (const char *const *)f->env_files;
        o->group_add = (const char *const *)f->group_add;
        o->add_hosts = (const char *const *)f->add_hosts;
        o->dns = (const char *const *)f->dns;
        o->dns_search = (const char *const *)f->dns_search;
        o->dns_options = (const char *const *)f->dns_options;
        o->cap_add = (const char *const *)f->cap_add;
        o->cap_drop = (const char *const *)f->cap_drop;
        o->security_opts = (const char *const *)f->security_opts;
        o->tmpfs = (const char *const *)f->tmpfs;
        o->ulimits = (const char *const *)f->ulimits;
        o->devices = (const char *const *)f->devices;
        o->sysctls = (const char *const *)f->sysctls;
        o->labels = (const char *const *)f->labels;
        o->annotations = (const char *const *)f->annotations;
        o->mounts = f->mounts;
        o->n_mounts = f->n_mounts;
        f->co.log_opts = (const char *const *)f->log_opts;
        f->co.publish = (const char *const *)f->publish;
        f->co.expose = (const char *const *)f->expose;
        if (o->tty) {
                struct winsize ws;
                if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
                        o->console_height = ws.ws_row;
                        o->console_width = ws.ws_col;
                }
        }
        f->po.reg.tls_verify = -1;
        registry_flags_apply(&f->rf, &f->po.reg);
        f->po.progress = run_pull_progress;
        f->co.pull_opts = &f->po;
        return 0;
}

void run_pull_progress(void *userdata, const struct pull_event *ev)
{
        (void)userdata;
        switch (ev->type) {
        case PULL_EV_TRYING:
                fprintf(stderr, "Trying to pull %s...\n", ev->text);
                break;
        case PULL_EV_WARNING:
                fprintf(stderr, "Warning: %s\n", ev->text);
                break;
        case PULL_EV_LAYER_DONE:
                fprintf(stderr, "Copying blob %.12s done\n",
                        ev->digest ? ev->digest + strlen("sha256:") : "");
                break;
        case PULL_EV_WRITING:
                fprintf(stderr, "Writing manifest to image destination\n");
                break;
        default:
                break;
        }
}
