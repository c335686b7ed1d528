/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test driver for src/engine/spec: takes `berth run`'s flags (the ones the
 * spec module handles) plus what the engine would know, and writes a bundle's
 * config.json and the container's files the way the engine will. Built, not
 * installed.
 *
 *   berth-spec --bundle DIR --rootfs DIR --files-dir DIR --id ID [engine options]
 *              [run flags] [--] [IMAGE-CMD...]
 *
 * The image config comes from --image-* options. Arguments after the options
 * replace the image's Cmd.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/strv.h"
#include "engine/spec.h"

enum {
        O_BUNDLE = 1000,
        O_ROOTFS,
        O_FILES,
        O_ID,
        O_NAME,
        O_IP,
        O_SECCOMP_PROFILE,
        O_INIT_PATH,
        O_RESOLV,
        O_HOSTS,
        O_NS_PATH,
        O_IMG_USER,
        O_IMG_WORKDIR,
        O_IMG_ENTRYPOINT,
        O_IMG_CMD,
        O_IMG_ENV,
        O_IMG_STOPSIG,
        O_IMG_LABEL,
        O_ENTRYPOINT,
        O_ENV_FILE,
        O_GROUP_ADD,
        O_HOSTNAME,
        O_ADD_HOST,
        O_DNS,
        O_DNS_SEARCH,
        O_DNS_OPTION,
        O_CAP_ADD,
        O_CAP_DROP,
        O_PRIVILEGED,
        O_SECOPT,
        O_READ_ONLY,
        O_TMPFS,
        O_INIT,
        O_MEMORY,
        O_MEMRES,
        O_MEMSWAP,
        O_CPUS,
        O_CPU_SHARES,
        O_CPU_QUOTA,
        O_CPU_PERIOD,
        O_CPUSET_CPUS,
        O_CPUSET_MEMS,
        O_PIDS,
        O_ULIMIT,
        O_DEVICE,
        O_SHM,
        O_SYSCTL,
        O_LABEL,
        O_ANNOTATION,
        O_STOPSIG,
        O_IPC,
        O_PID,
        O_UTS,
        O_NETWORK,
        O_USERNS,
        O_CGROUPNS,
        O_CGROUP_PARENT,
        O_MOUNT,
        O_HOST_GATEWAY,
        O_PRINT,
};

static const struct option longopts[] = {
    {"bundle", required_argument, NULL, O_BUNDLE},
    {"rootfs", required_argument, NULL, O_ROOTFS},
    {"files-dir", required_argument, NULL, O_FILES},
    {"id", required_argument, NULL, O_ID},
    {"name", required_argument, NULL, O_NAME},
    {"ip", required_argument, NULL, O_IP},
    {"seccomp-profile", required_argument, NULL, O_SECCOMP_PROFILE},
    {"init-path", required_argument, NULL, O_INIT_PATH},
    {"host-resolv-conf", required_argument, NULL, O_RESOLV},
    {"host-hosts", required_argument, NULL, O_HOSTS},
    {"host-gateway", required_argument, NULL, O_HOST_GATEWAY},
    {"ns-path", required_argument, NULL, O_NS_PATH},
    {"image-user", required_argument, NULL, O_IMG_USER},
    {"image-workdir", required_argument, NULL, O_IMG_WORKDIR},
    {"image-entrypoint", required_argument, NULL, O_IMG_ENTRYPOINT},
    {"image-cmd", required_argument, NULL, O_IMG_CMD},
    {"image-env", required_argument, NULL, O_IMG_ENV},
    {"image-stop-signal", required_argument, NULL, O_IMG_STOPSIG},
    {"image-label", required_argument, NULL, O_IMG_LABEL},
    {"print", no_argument, NULL, O_PRINT},
    {"entrypoint", required_argument, NULL, O_ENTRYPOINT},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, O_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"group-add", required_argument, NULL, O_GROUP_ADD},
    {"hostname", required_argument, NULL, O_HOSTNAME},
    {"add-host", required_argument, NULL, O_ADD_HOST},
    {"dns", required_argument, NULL, O_DNS},
    {"dns-search", required_argument, NULL, O_DNS_SEARCH},
    {"dns-option", required_argument, NULL, O_DNS_OPTION},
    {"cap-add", required_argument, NULL, O_CAP_ADD},
    {"cap-drop", required_argument, NULL, O_CAP_DROP},
    {"privileged", no_argument, NULL, O_PRIVILEGED},
    {"security-opt", required_argument, NULL, O_SECOPT},
    {"read-only", no_argument, NULL, O_READ_ONLY},
    {"tmpfs", required_argument, NULL, O_TMPFS},
    {"init", no_argument, NULL, O_INIT},
    {"memory", required_argument, NULL, O_MEMORY},
    {"memory-reservation", required_argument, NULL, O_MEMRES},
    {"memory-swap", required_argument, NULL, O_MEMSWAP},
    {"cpus", required_argument, NULL, O_CPUS},
    {"cpu-shares", required_argument, NULL, O_CPU_SHARES},
    {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
    {"cpu-period", required_argument, NULL, O_CPU_PERIOD},
    {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
    {"pids-limit", required_argument, NULL, O_PIDS},
    {"ulimit", required_argument, NULL, O_ULIMIT},
    {"device", required_argument, NULL, O_DEVICE},
    {"shm-size", required_argument, NULL, O_SHM},
    {"sysctl", required_argument, NULL, O_SYSCTL},
    {"label", required_argument, NULL, O_LABEL},
    {"annotation", required_argument, NULL, O_ANNOTATION},
    {"stop-signal", required_argument, NULL, O_STOPSIG},
    {"tty", no_argument, NULL, 't'},
    {"interactive", no_argument, NULL, 'i'},
    {"ipc", required_argument, NULL, O_IPC},
    {"pid", required_argument, NULL, O_PID},
    {"uts", required_argument, NULL, O_UTS},
    {"network", required_argument, NULL, O_NETWORK},
    {"userns", required_argument, NULL, O_USERNS},
    {"cgroupns", required_argument, NULL, O_CGROUPNS},
    {"cgroup-parent", required_argument, NULL, O_CGROUP_PARENT},
    {"volume", required_argument, NULL, 'v'},
    {"mount", required_argument, NULL, O_MOUNT},
    {},
};

static int fail(struct berr *err)
{
        fprintf(stderr, "berth-spec: %s\n", err && err->msg ? err->msg : "failed");
        berr_free(err);
        return 1;
}

#define LIST(field)                                                                                          \
        do {                                                                                                 \
                if (strv_extend(&field, optarg) < 0)                                                         \
                        return fail(NULL);                                                                   \
        } while (0)

int main(int argc, char **argv)
{
        struct engine_image_config img = {0};
        struct engine_run_opts o = {0};
        struct engine_spec_ctx ctx = {0};
        char **env = NULL, **env_files = NULL, **group_add = NULL, **add_hosts = NULL, **dns = NULL,
             **dns_search = NULL, **dns_options = NULL, **cap_add = NULL, **cap_drop = NULL, **secopts = NULL,
             **tmpfs = NULL, **ulimits = NULL, **devices = NULL, **sysctls = NULL, **labels = NULL,
             **annotations = NULL, **ips = NULL;
        struct engine_mount *mounts = NULL;
        const char *bundle = NULL;
        struct berr *err = NULL;
        struct engine_spec *spec = NULL;
        bool print = false;
        int c;

        while ((c = getopt_long(argc, argv, "+e:w:u:tiv:", longopts, NULL)) != -1) {
                struct engine_mount m, *nm;
                switch (c) {
                case O_BUNDLE:
                        bundle = optarg;
                        break;
                case O_ROOTFS:
                        ctx.rootfs = optarg;
                        break;
                case O_FILES:
                        ctx.files_dir = optarg;
                        break;
                case O_ID:
                        ctx.id = optarg;
                        break;
                case O_NAME:
                        ctx.name = optarg;
                        break;
                case O_IP:
                        LIST(ips);
                        break;
                case O_SECCOMP_PROFILE:
                        ctx.seccomp_profile = optarg;
                        break;
                case O_INIT_PATH:
                        ctx.init_path = optarg;
                        break;
                case O_RESOLV:
                        ctx.host_resolv_conf = optarg;
                        break;
                case O_HOSTS:
                        ctx.host_hosts = optarg;
                        break;
                case O_HOST_GATEWAY:
                        ctx.host_gateway = optarg;
                        break;
                case O_NS_PATH: {
                        char *eq = strchr(optarg, '=');
                        int t;
                        if (!eq)
                                return fail(NULL);
                        *eq = '\0';
                        t = oci_ns_from_name(optarg);
                        if (t < 0)
                                return fail(NULL);
                        ctx.ns_paths[t] = eq + 1;
                        break;
                }
                case O_IMG_USER:
                        img.user = optarg;
                        break;
                case O_IMG_WORKDIR:
                        img.working_dir = optarg;
                        break;
                case O_IMG_ENTRYPOINT:
                        LIST(img.entrypoint);
                        break;
                case O_IMG_CMD:
                        LIST(img.cmd);
                        break;
                case O_IMG_ENV:
                        LIST(img.env);
                        break;
                case O_IMG_STOPSIG:
                        img.stop_signal = optarg;
                        break;
                case O_IMG_LABEL: {
                        char *eq = strchr(optarg, '=');
                        if (!eq)
                                return fail(NULL);
                        *eq = '\0';
                        if (strv_extend(&img.labels, optarg) < 0 || strv_extend(&img.labels, eq + 1) < 0)
                                return fail(NULL);
                        break;
                }
                case O_PRINT:
                        print = true;
                        break;
                case O_ENTRYPOINT:
                        o.entrypoint = optarg;
                        break;
                case 'e':
                        LIST(env);
                        break;
                case O_ENV_FILE:
                        LIST(env_files);
                        break;
                case 'w':
                        o.workdir = optarg;
                        break;
                case 'u':
                        o.user = optarg;
                        break;
                case O_GROUP_ADD:
                        LIST(group_add);
                        break;
                case O_HOSTNAME:
                        o.hostname = optarg;
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
                        o.privileged = true;
                        break;
                case O_SECOPT:
                        LIST(secopts);
                        break;
                case O_READ_ONLY:
                        o.read_only = true;
                        break;
                case O_TMPFS:
                        LIST(tmpfs);
                        break;
                case O_INIT:
                        o.init = true;
                        break;
                case O_MEMORY:
                        o.memory = optarg;
                        break;
                case O_MEMRES:
                        o.memory_reservation = optarg;
                        break;
                case O_MEMSWAP:
                        o.memory_swap = optarg;
                        break;
                case O_CPUS:
                        o.cpus = optarg;
                        break;
                case O_CPU_SHARES:
                        o.cpu_shares = optarg;
                        break;
                case O_CPU_QUOTA:
                        o.cpu_quota = optarg;
                        break;
                case O_CPU_PERIOD:
                        o.cpu_period = optarg;
                        break;
                case O_CPUSET_CPUS:
                        o.cpuset_cpus = optarg;
                        break;
                case O_CPUSET_MEMS:
                        o.cpuset_mems = optarg;
                        break;
                case O_PIDS:
                        o.pids_limit = optarg;
                        break;
                case O_ULIMIT:
                        LIST(ulimits);
                        break;
                case O_DEVICE:
                        LIST(devices);
                        break;
                case O_SHM:
                        o.shm_size = optarg;
                        break;
                case O_SYSCTL:
                        LIST(sysctls);
                        break;
                case O_LABEL:
                        LIST(labels);
                        break;
                case O_ANNOTATION:
                        LIST(annotations);
                        break;
                case O_STOPSIG:
                        o.stop_signal = optarg;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'i':
                        o.interactive = true;
                        break;
                case O_IPC:
                        o.ipc = optarg;
                        break;
                case O_PID:
                        o.pid = optarg;
                        break;
                case O_UTS:
                        o.uts = optarg;
                        break;
                case O_NETWORK:
                        o.network = optarg;
                        break;
                case O_USERNS:
                        o.userns = optarg;
                        break;
                case O_CGROUPNS:
                        o.cgroupns = optarg;
                        break;
                case O_CGROUP_PARENT:
                        o.cgroup_parent = optarg;
                        break;
                case 'v':
                case O_MOUNT:
                        if ((c == 'v' ? engine_mount_parse_volume(optarg, &m, &err)
                                      : engine_mount_parse_mount(optarg, &m, &err)) < 0)
                                return fail(err);
                        /* The driver has no volume store: a named volume lives in <files-dir>/volumes/NAME.
                         */
                        if (m.type == ENGINE_MOUNT_VOLUME && ctx.files_dir &&
                            asprintf(&m.source, "%s/volumes/%s", ctx.files_dir,
                                     m.volume_name ? m.volume_name : "anonymous") < 0)
                                return fail(NULL);
                        nm = realloc(mounts, (o.n_mounts + 1) * sizeof(*nm));
                        if (!nm)
                                return fail(NULL);
                        mounts = nm;
                        mounts[o.n_mounts++] = m;
                        break;
                default:
                        fputs("usage: berth-spec --bundle DIR --rootfs DIR --files-dir DIR --id ID [FLAGS] "
                              "[CMD...]\n",
                              stderr);
                        return 2;
                }
        }
        o.cmd = (const char *const *)(argv + optind);
        o.env = (const char *const *)env;
        o.env_files = (const char *const *)env_files;
        o.group_add = (const char *const *)group_add;
        o.add_hosts = (const char *const *)add_hosts;
        o.dns = (const char *const *)dns;
        o.dns_search = (const char *const *)dns_search;
        o.dns_options = (const char *const *)dns_options;
        o.cap_add = (const char *const *)cap_add;
        o.cap_drop = (const char *const *)cap_drop;
        o.security_opts = (const char *const *)secopts;
        o.tmpfs = (const char *const *)tmpfs;
        o.ulimits = (const char *const *)ulimits;
        o.devices = (const char *const *)devices;
        o.sysctls = (const char *const *)sysctls;
        o.labels = (const char *const *)labels;
        o.annotations = (const char *const *)annotations;
        o.mounts = mounts;
        ctx.ips = (const char *const *)ips;

        if (!bundle)
                return fail(NULL);
        if (engine_spec_build(&img, &o, &ctx, &spec, &err) < 0 || engine_spec_prepare(spec, &ctx, &err) < 0 ||
            engine_spec_write_bundle(spec, bundle, &err) < 0) {
                engine_spec_free(spec);
                return fail(err);
        }
        for (size_t i = 0; i < o.n_mounts; i++)
                if (mounts[i].type == ENGINE_MOUNT_VOLUME && mkdir_p(mounts[i].source, 0755, &err) < 0)
                        return fail(err);
        if (print) {
                printf("hostname=%s\nstop_signal=%d\n", spec->hostname, spec->stop_signal);
                for (char **l = spec->labels; l && l[0] && l[1]; l += 2)
                        printf("label %s=%s\n", l[0], l[1]);
        }
        engine_spec_free(spec);
        for (size_t i = 0; i < o.n_mounts; i++)
                engine_mount_done(&mounts[i]);
        free(mounts);
        strv_free(env);
        strv_free(env_files);
        strv_free(group_add);
        strv_free(add_hosts);
        strv_free(dns);
        strv_free(dns_search);
        strv_free(dns_options);
        strv_free(cap_add);
        strv_free(cap_drop);
        strv_free(secopts);
        strv_free(tmpfs);
        strv_free(ulimits);
        strv_free(devices);
        strv_free(sysctls);
        strv_free(labels);
        strv_free(annotations);
        strv_free(ips);
        strv_free(img.entrypoint);
        strv_free(img.cmd);
        strv_free(img.env);
        strv_free(img.labels);
        return 0;
}
