/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "basic/fileio.h"
#include "spec.h"

#define AT_FDCWD_ AT_FDCWD

static const char *const cap_names[] = {
        "CAP_CHOWN",            "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID",           "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
        "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",        "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
        "CAP_LEASE",            "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

int oci_cap_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (strcasecmp(name, cap_names[i]) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *oci_cap_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

int oci_cap_last(void)
{
        static int last = -1;
        char buf[16];

        if (last < 0) {
                if (read_line_at(AT_FDCWD_, "/proc/sys/kernel/cap_last_cap", buf, sizeof(buf)) > 0)
                        last = atoi(buf);
                else
                        last = (int)ARRAY_SIZE(cap_names) - 1;
        }
        return last;
}

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_STACK", RLIMIT_STACK},
        {"RLIMIT_CORE", RLIMIT_CORE},       {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

int oci_rlimit_from_name(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (streq(name, rlimit_names[i].name))
                        return rlimit_names[i].resource;
        return -EINVAL;
}

const char *oci_rlimit_name(int resource)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (rlimit_names[i].resource == resource)
                        return rlimit_names[i].name;
        return NULL;
}

static const struct {
        const char *name;
        const char *proc;
        int flag;
} ns_names[OCI_NS_COUNT] = {
        [OCI_NS_PID] = {"pid", "pid", CLONE_NEWPID},
        [OCI_NS_NET] = {"network", "net", CLONE_NEWNET},
        [OCI_NS_MNT] = {"mount", "mnt", CLONE_NEWNS},
        [OCI_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
        [OCI_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
        [OCI_NS_USER] = {"user", "user", CLONE_NEWUSER},
        [OCI_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
        [OCI_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *oci_ns_name(enum oci_ns_type t)
{
        return ns_names[t].name;
}

const char *oci_ns_proc_name(enum oci_ns_type t)
{
        return ns_names[t].proc;
}

int oci_ns_clone_flag(enum oci_ns_type t)
{
        return ns_names[t].flag;
}

int oci_ns_from_name(const char *name)
{
        for (int i = 0; i < OCI_NS_COUNT; i++)
                if (streq(name, ns_names[i].name))
                        return i;
        return -EINVAL;
}

static const char *const hook_names[OCI_HOOK_COUNT] = {
        [OCI_HOOK_PRESTART] = "prestart",
        [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
        [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
        [OCI_HOOK_START_CONTAINER] = "startContainer",
        [OCI_HOOK_POSTSTART] = "poststart",
        [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind k)
{
        return hook_names[k];
}

int oci_validate_id(const char *id, struct berr **err)
{
        if (strempty(id))
                return berr_make(err, 0, "container id cannot be empty");
        if (streq(id, ".") || streq(id, ".."))
                return berr_make(err, 0, "invalid container id `%s`", id);
        if (strlen(id) > 1024)
                return berr_make(err, 0, "container id is longer than 1024 characters");
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("_+-.", *p)))
                        return berr_make(err, 0, "invalid container id `%s`: only [a-zA-Z0-9_+.-] allowed", id);
        return 0;
}
