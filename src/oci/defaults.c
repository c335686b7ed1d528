/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "spec.h"

static json_object *strs(const char *const *v)
{
        json_object *a = json_object_new_array();

        for (; *v; v++)
                json_object_array_add(a, json_object_new_string(*v));
        return a;
}

static json_object *mount_entry(const char *dest, const char *type, const char *source, const char *const *opts)
{
        json_object *m = json_object_new_object();

        json_object_object_add(m, "destination", json_object_new_string(dest));
        json_object_object_add(m, "type", json_object_new_string(type));
        json_object_object_add(m, "source", json_object_new_string(source));
        if (opts)
                json_object_object_add(m, "options", strs(opts));
        return m;
}

static json_object *id_map(void)
{
        json_object *a = json_object_new_array(), *m = json_object_new_object();

        json_object_object_add(m, "containerID", json_object_new_int(0));
        json_object_object_add(m, "hostID", json_object_new_int(1000));
        json_object_object_add(m, "size", json_object_new_int(1));
        json_object_array_add(a, m);
        return a;
}

/* The same document `runc spec` writes, so tools that edit it find what they expect. */
json_object *oci_spec_default(bool rootless)
{
        static const char *const caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
        static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                          "TERM=xterm", NULL};
        static const char *const masked[] = {"/proc/acpi",        "/proc/asound",      "/proc/kcore",
                                             "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                                             "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                             "/proc/scsi",        NULL};
        static const char *const ro[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
                                         NULL};
        static const char *const args[] = {"sh", NULL};
        json_object *spec = json_object_new_object(), *proc = json_object_new_object();
        json_object *user = json_object_new_object(), *c = json_object_new_object();
        json_object *rl = json_object_new_array(), *rl0 = json_object_new_object();
        json_object *root = json_object_new_object(), *mounts = json_object_new_array();
        json_object *lin = json_object_new_object(), *ns = json_object_new_array();
        const char *const set_names[] = {"bounding", "effective", "permitted", "ambient"};
        const char *const ns_names[] = {"pid", "network", "ipc", "uts", "mount", "cgroup", rootless ? "user" : NULL};

        json_object_object_add(spec, "ociVersion", json_object_new_string(OCI_VERSION));
        json_object_object_add(proc, "terminal", json_object_new_boolean(1));
        json_object_object_add(user, "uid", json_object_new_int(0));
        json_object_object_add(user, "gid", json_object_new_int(0));
        json_object_object_add(proc, "user", user);
        json_object_object_add(proc, "args", strs(args));
        json_object_object_add(proc, "env", strs(env));
        json_object_object_add(proc, "cwd", json_object_new_string("/"));
        for (size_t i = 0; i < ARRAY_SIZE(set_names); i++)
                json_object_object_add(c, set_names[i], strs(caps));
        json_object_object_add(proc, "capabilities", c);
        json_object_object_add(rl0, "type", json_object_new_string("RLIMIT_NOFILE"));
        json_object_object_add(rl0, "hard", json_object_new_int(1024));
        json_object_object_add(rl0, "soft", json_object_new_int(1024));
        json_object_array_add(rl, rl0);
        json_object_object_add(proc, "rlimits", rl);
        json_object_object_add(proc, "noNewPrivileges", json_object_new_boolean(1));
        json_object_object_add(spec, "process", proc);

        json_object_object_add(root, "path", json_object_new_string("rootfs"));
        json_object_object_add(root, "readonly", json_object_new_boolean(1));
        json_object_object_add(spec, "root", root);
        json_object_object_add(spec, "hostname", json_object_new_string("berth"));

        json_object_array_add(mounts, mount_entry("/proc", "proc", "proc", NULL));
        json_object_array_add(mounts, mount_entry("/dev", "tmpfs", "tmpfs",
                                                  (const char *const[]){"nosuid", "strictatime", "mode=755",
                                                                        "size=65536k", NULL}));
        json_object_array_add(mounts, mount_entry("/dev/pts", "devpts", "devpts",
                                                  rootless ? (const char *const[]){"nosuid", "noexec", "newinstance",
                                                                                   "ptmxmode=0666", "mode=0620",
                                                                                   NULL}
                                                           : (const char *const[]){"nosuid", "noexec", "newinstance",
                                                                                   "ptmxmode=0666", "mode=0620",
                                                                                   "gid=5", NULL}));
        json_object_array_add(mounts, mount_entry("/dev/shm", "tmpfs", "shm",
                                                  (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777",
                                                                        "size=65536k", NULL}));
        json_object_array_add(mounts, mount_entry("/dev/mqueue", "mqueue", "mqueue",
                                                  (const char *const[]){"nosuid", "noexec", "nodev", NULL}));
        if (rootless)
                json_object_array_add(mounts, mount_entry("/sys", "none", "/sys",
                                                          (const char *const[]){"rbind", "nosuid", "noexec", "nodev",
                                                                                "ro", NULL}));
        else
                json_object_array_add(mounts, mount_entry("/sys", "sysfs", "sysfs",
                                                          (const char *const[]){"nosuid", "noexec", "nodev", "ro",
                                                                                NULL}));
        json_object_array_add(mounts, mount_entry("/sys/fs/cgroup", "cgroup", "cgroup",
                                                  (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro",
                                                                        NULL}));
        json_object_object_add(spec, "mounts", mounts);

        if (rootless) {
                json_object_object_add(lin, "uidMappings", id_map());
                json_object_object_add(lin, "gidMappings", id_map());
        } else {
                json_object *res = json_object_new_object(), *devs = json_object_new_array();
                json_object *d = json_object_new_object();
                json_object_object_add(d, "allow", json_object_new_boolean(0));
                json_object_object_add(d, "access", json_object_new_string("rwm"));
                json_object_array_add(devs, d);
                json_object_object_add(res, "devices", devs);
                json_object_object_add(lin, "resources", res);
        }
        for (size_t i = 0; i < ARRAY_SIZE(ns_names) && ns_names[i]; i++) {
                json_object *n = json_object_new_object();
                json_object_object_add(n, "type", json_object_new_string(ns_names[i]));
                json_object_array_add(ns, n);
        }
        json_object_object_add(lin, "namespaces", ns);
        json_object_object_add(lin, "maskedPaths", strs(masked));
        json_object_object_add(lin, "readonlyPaths", strs(ro));
        json_object_object_add(spec, "linux", lin);
        return spec;
}
