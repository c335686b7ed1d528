/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp with libseccomp, following runc: the profile is compiled to
 * classic BPF in the runtime process (seccomp_prepare) so that the container's
 * init only hands a ready program to seccomp(2) (seccomp_install).
 *
 * Like runc, the program starts with a stub that answers ENOSYS, instead of
 * the default action, for syscalls numbered above the highest one the profile
 * names on each listed architecture: a syscall newer than the profile is
 * reported as missing, which makes libcs fall back to older ones.
 *
 * libseccomp takes tens of milliseconds on the default profile, so compiled
 * programs can be kept in a cache directory (seccomp_prepare_cached).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "oci/spec.h"
#include "berth-config.h"
#include "runtime/seccomp.h"

/* Caps on what a profile may ask for: BPF programs end at 4096 instructions
 * anyway, these only stop a hostile config from making libseccomp churn. */
#define SECCOMP_MAX_ENTRIES   4096
#define SECCOMP_MAX_NAMES     16384
#define SECCOMP_MAX_ARGS      64
#define SECCOMP_ARG_INDEX_MAX 5
#define X32_SYSCALL_BIT       0x40000000u

struct seccomp_prog {
        struct sock_filter *insns;
        unsigned short n_insns;
        unsigned int flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
        bool notify;
        char *listener_path;
        char *listener_metadata;
};

struct name_value {
        const char *name;
        uint32_t value;
};

/* Sorted by name: features lists them in this order, as runc does. */
static const struct name_value actions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
};

static const struct name_value operators[] = {
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
    {"SCMP_CMP_NE", SCMP_CMP_NE},
};

/* runtime-spec architecture names; each is libseccomp's name in upper case. */
static const char *const arch_names[] = {
    "SCMP_ARCH_AARCH64",     "SCMP_ARCH_ARM",       "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",      "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_RISCV64",     "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",       "SCMP_ARCH_X32",       "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",
};

/* SECCOMP_FILTER_FLAG_TSYNC is accepted and ignored, as runc does: the init
 * that loads the filter has a single thread. */
static const struct name_value filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", 0},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

static const struct name_value *lookup(const struct name_value *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(t[i].name, name))
                        return &t[i];
        return NULL;
}

static void json_putp(json_object **o)
{
        if (*o)
                json_object_put(*o);
}

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

static bool arch_is_known(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
                if (streq(arch_names[i], name))
                        return true;
        return false;
}

/* libseccomp's token for a runtime-spec name, 0 when libseccomp lacks it. */
static uint32_t arch_token(const char *name)
{
        char lower[32];
        size_t i;

        if (!arch_is_known(name))
                return 0;
        name += strlen("SCMP_ARCH_");
        for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
                lower[i] = (char)tolower((unsigned char)name[i]);
        lower[i] = '\0';
        return seccomp_arch_resolve_name(lower);
}

/* The kernel rejects unknown flags with EINVAL before it reads the program,
 * which a NULL program then fails with EFAULT. */
static bool kernel_has_filter_flag(unsigned int flag)
{
        if (flag & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static bool kernel_has_action(uint32_t action)
{
        return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

/* Reads `action` (or `defaultAction`) with its errno value into *out. */
static int parse_action(json_object *obj, const char *path, const char *key, const char *errno_key,
                        uint32_t *out, struct berr **err)
{
        const struct name_value *a;
        json_object *v;
        int64_t ret = EPERM;
        int r;

        r = json_get(obj, path, key, json_type_string, true, &v, err);
        if (r < 0)
                return r;
        a = lookup(actions, ARRAY_SIZE(actions), json_object_get_string(v));
        if (!a)
                return berr_make(err, 0, "%s.%s: unknown action `%s`", path, key, json_object_get_string(v));
        r = json_get_int64(obj, path, errno_key, 0, SECCOMP_RET_DATA, &ret, err);
        if (r < 0)
                return r;
        *out = a->value;
        if (a->value == SCMP_ACT_ERRNO(0))
                *out = SCMP_ACT_ERRNO((uint16_t)ret);
        else if (a->value == SCMP_ACT_TRACE(0))
                *out = SCMP_ACT_TRACE((uint16_t)ret);
        return 0;
}

/* One entry of linux.seccomp.syscalls, validated; the names stay in the JSON. */
struct rule_set {
        json_object *names;
        uint32_t action;
        struct scmp_arg_cmp *conds;
        size_t n_conds;
        bool split; /* several conditions on one argument */
        size_t idx;
};

/* The validated profile: what libseccomp needs to build the filter. */
struct model {
        uint32_t def_action;
        uint32_t archs[ARRAY_SIZE(arch_names)];
        size_t n_archs;
        struct rule_set *sets;
        size_t n_sets;
        size_t n_names;
        bool notify;
};

static void model_done(struct model *m)
{
        for (size_t i = 0; m->sets && i < m->n_sets; i++)
                free(m->sets[i].conds);
        free(m->sets);
}

/* Presence check, then the typed read (whose errors name path.key). */
static int get_required_uint64(json_object *obj, const char *path, const char *key, uint64_t *out,
                               struct berr **err)
{
        json_object *v;
        int r = json_get(obj, path, key, json_type_int, true, &v, err);

        if (r < 0)
                return r;
        return json_get_uint64(obj, path, key, out, err);
}

static int parse_arg(json_object *arg, const char *path, struct scmp_arg_cmp *c, struct berr **err)
{
        const struct name_value *op;
        uint64_t index = 0, value = 0, value2 = 0;
        json_object *v;
        int r;

        if (!json_object_is_type(arg, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(arg)));
        r = get_required_uint64(arg, path, "index", &index, err);
        if (r < 0)
                return r;
        if (index > SECCOMP_ARG_INDEX_MAX)
                return berr_make(err, 0, "%s.index: %" PRIu64 " is out of range [0, %d]", path, index,
                                 SECCOMP_ARG_INDEX_MAX);
        r = get_required_uint64(arg, path, "value", &value, err);
        if (r < 0)
                return r;
        r = json_get_uint64(arg, path, "valueTwo", &value2, err);
        if (r < 0)
                return r;
        r = json_get(arg, path, "op", json_type_string, true, &v, err);
        if (r < 0)
                return r;
        op = lookup(operators, ARRAY_SIZE(operators), json_object_get_string(v));
        if (!op)
                return berr_make(err, 0, "%s.op: unknown operator `%s`", path, json_object_get_string(v));
        *c = (struct scmp_arg_cmp){
            .arg = (unsigned int)index, .op = op->value, .datum_a = value, .datum_b = value2};
        return 0;
}

static int parse_syscall(struct model *m, json_object *e, size_t idx, struct rule_set *set, struct berr **err)
{
        unsigned int per_index[SECCOMP_ARG_INDEX_MAX + 1] = {0};
        json_object *args;
        size_t n_names, n_args = 0;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", idx);
        set->idx = idx;
        if (!json_object_is_type(e, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(e)));
        r = json_get(e, path, "names", json_type_array, true, &set->names, err);
        if (r < 0)
                return r;
        r = parse_action(e, path, "action", "errnoRet", &set->action, err);
        if (r < 0)
                return r;
        r = json_get(e, path, "args", json_type_array, false, &args, err);
        if (r < 0)
                return r;
        if (args) {
                n_args = json_object_array_length(args);
                if (n_args > SECCOMP_MAX_ARGS)
                        return berr_make(err, 0, "%s.args: %zu conditions, more than the limit of %d", path,
                                         n_args, SECCOMP_MAX_ARGS);
                set->conds = calloc(n_args ? n_args : 1, sizeof(*set->conds));
                if (!set->conds)
                        return berr_make(err, ENOMEM, "%s", path);
        }
        for (size_t i = 0; i < n_args; i++) {
                char apath[96];

                snprintf(apath, sizeof(apath), "%s.args[%zu]", path, i);
                r = parse_arg(json_object_array_get_idx(args, i), apath, &set->conds[i], err);
                if (r < 0)
                        return r;
                set->n_conds++;
                if (++per_index[set->conds[i].arg] > 1)
                        set->split = true;
        }

        n_names = json_object_array_length(set->names);
        m->n_names += n_names;
        if (m->n_names > SECCOMP_MAX_NAMES)
                return berr_make(err, 0, "%s.names: more than the limit of %d syscall names in a profile",
                                 path, SECCOMP_MAX_NAMES);
        for (size_t i = 0; i < n_names; i++) {
                json_object *v = json_object_array_get_idx(set->names, i);
                const char *name;

                if (!json_object_is_type(v, json_type_string))
                        return berr_make(err, 0, "%s.names[%zu]: expected a string, got %s", path, i,
                                         json_type_label(json_object_get_type(v)));
                name = json_object_get_string(v);
                if (!*name)
                        return berr_make(err, 0, "%s.names[%zu]: empty syscall name", path, i);
                if (seccomp_syscall_resolve_name(name) == __NR_SCMP_ERROR)
                        log_debug("%s.names[%zu]: unknown syscall `%s` ignored", path, i, name);
                if (set->action != SCMP_ACT_NOTIFY || set->action == m->def_action)
                        continue;
                /* The init writes the notify fd's number to the runtime after
                 * loading the filter: a notified write would hang it. */
                if (streq(name, "write"))
                        return berr_make(err, 0, "%s.names[%zu]: SCMP_ACT_NOTIFY cannot be used for `write`",
                                         path, i);
                m->notify = true;
        }
        return 0;
}

static int parse_architectures(struct model *m, json_object *sc, struct berr **err)
{
        json_object *archs;
        size_t n;
        int r;

        r = json_get(sc, "linux.seccomp", "architectures", json_type_array, false, &archs, err);
        if (r <= 0)
                return r;
        n = json_object_array_length(archs);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(archs, i);
                const char *name;
                uint32_t token;
                bool seen = false;

                if (!json_object_is_type(v, json_type_string))
                        return berr_make(err, 0,
                                         "linux.seccomp.architectures[%zu]: expected a string, got %s", i,
                                         json_type_label(json_object_get_type(v)));
                name = json_object_get_string(v);
                if (!arch_is_known(name))
                        return berr_make(
                            err, 0, "linux.seccomp.architectures[%zu]: unknown architecture `%s`", i, name);
                token = arch_token(name);
                if (!token)
                        return berr_make(
                            err, 0,
                            "linux.seccomp.architectures[%zu]: %s is not supported by libseccomp "
                            "%u.%u.%u",
                            i, name, seccomp_version()->major, seccomp_version()->minor,
                            seccomp_version()->micro);
                for (size_t j = 0; j < m->n_archs; j++)
                        seen = seen || m->archs[j] == token;
                if (!seen)
                        m->archs[m->n_archs++] = token;
        }
        return 0;
}

struct stub_arch {
        uint32_t token;
        uint32_t audit; /* what the kernel reports in seccomp_data.arch */
        uint32_t max_nr;
};

/* Compilation state: the libseccomp context and, per listed architecture,
 * the highest syscall number the profile names (for the ENOSYS stub). */
struct builder {
        scmp_filter_ctx ctx;
        struct stub_arch archs[ARRAY_SIZE(arch_names)];
        size_t n_archs;
};

static void note_max_nr(struct builder *b, const char *name)
{
        for (size_t i = 0; i < b->n_archs; i++) {
                int nr = seccomp_syscall_resolve_name_arch(b->archs[i].token, name);
                if (nr > 0 && (uint32_t)nr > b->archs[i].max_nr)
                        b->archs[i].max_nr = (uint32_t)nr;
        }
}

static int add_rules(struct builder *b, const struct rule_set *set, const char *name, struct berr **err)
{
        int nr = seccomp_syscall_resolve_name(name);
        int r = 0;

        if (nr == __NR_SCMP_ERROR)
                return 0;
        /* Conditions on the same argument cannot all hold at once; like runc,
         * each becomes a rule of its own, so any of them matches. */
        if (set->split) {
                for (size_t i = 0; i < set->n_conds && r == 0; i++)
                        r = seccomp_rule_add_array(b->ctx, set->action, nr, 1, &set->conds[i]);
        } else {
                r = seccomp_rule_add_array(b->ctx, set->action, nr, (unsigned int)set->n_conds, set->conds);
        }
        if (r < 0)
                return berr_make(err, -r, "linux.seccomp.syscalls[%zu]: adding the rule for `%s`", set->idx,
                                 name);
        return 0;
}

static int parse_flags(struct seccomp_prog *p, json_object *sc, struct berr **err)
{
        json_object *flags;
        size_t n;
        int r;

        r = json_get(sc, "linux.seccomp", "flags", json_type_array, false, &flags, err);
        if (r < 0)
                return r;
        if (r == 0) {
                /* runc's default when flags are not given at all: let the
                 * container opt out of the speculative store bypass mitigation. */
                if (kernel_has_filter_flag(SECCOMP_FILTER_FLAG_SPEC_ALLOW))
                        p->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                return 0;
        }
        n = json_object_array_length(flags);
        for (size_t i = 0; i < n; i++) {
                json_object *v = json_object_array_get_idx(flags, i);
                const struct name_value *f;

                if (!json_object_is_type(v, json_type_string))
                        return berr_make(err, 0, "linux.seccomp.flags[%zu]: expected a string, got %s", i,
                                         json_type_label(json_object_get_type(v)));
                f = lookup(filter_flags, ARRAY_SIZE(filter_flags), json_object_get_string(v));
                if (!f)
                        return berr_make(err, 0, "linux.seccomp.flags[%zu]: unknown flag `%s`", i,
                                         json_object_get_string(v));
                if (f->value && !kernel_has_filter_flag(f->value))
                        return berr_make(err, 0,
                                         "linux.seccomp.flags[%zu]: %s is not supported by this kernel", i,
                                         f->name);
                p->flags |= f->value;
        }
        return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **out, size_t *n, struct berr **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ struct sock_filter *insns = NULL;
        off_t size;
        int r;

        /* libseccomp 2.5 only exports to an fd; a memfd has no size limit
         * that could block the write the way a pipe would. */
        fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return berr_errno(err, "linux.seccomp: memfd_create");
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return berr_make(err, -r, "linux.seccomp: compiling the filter");
        size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return berr_errno(err, "linux.seccomp: reading the compiled filter");
        if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0)
                return berr_make(err, EIO, "linux.seccomp: libseccomp produced a filter of %lld bytes",
                                 (long long)size);
        insns = malloc((size_t)size);
        if (!insns)
                return berr_make(err, ENOMEM, "linux.seccomp");
        if (pread(fd, insns, (size_t)size, 0) != size)
                return berr_errno(err, "linux.seccomp: reading the compiled filter");
        *out = TAKE_PTR(insns);
        *n = (size_t)size / sizeof(struct sock_filter);
        return 0;
}

#define STMT(code, k)         ((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) ((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET_ENOSYS            STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS)
/* One architecture's section of the stub has at most 6 instructions. */
#define STUB_SECTION_MAX 6

/* The listed architecture `token` on `audit`, if the profile names any of its syscalls. */
static const struct stub_arch *stub_find(const struct builder *b, uint32_t audit, uint32_t token)
{
        for (size_t i = 0; i < b->n_archs; i++)
                if (b->archs[i].audit == audit && b->archs[i].token == token && b->archs[i].max_nr > 0)
                        return &b->archs[i];
        return NULL;
}

/*
 * The stub runs before libseccomp's program:
 *     ld arch; for each arch: jeq AUDIT_ARCH_x, 0, 1; ja section_x
 *     ja filter
 *   section_x:
 *     ld nr; jgt max_nr, 0, 1; ret ERRNO(ENOSYS); ja filter
 * x86_64 and x32 share the audit value, told apart by bit 30 of the number;
 * on s390 unknown large numbers arrive as syscall 0, which also gets ENOSYS.
 */
static int enosys_stub(const struct builder *b, struct sock_filter **out, size_t *n_out, struct berr **err)
{
        _cleanup_free_ struct sock_filter *f = NULL;
        size_t to_filter[ARRAY_SIZE(b->archs) * 2], n_to_filter = 0;
        size_t dispatch[ARRAY_SIZE(b->archs)];
        uint32_t audits[ARRAY_SIZE(b->archs)];
        size_t n_audits = 0, n = 0;

        for (size_t i = 0; i < b->n_archs; i++) {
                bool seen = false;
                if (b->archs[i].max_nr == 0)
                        continue;
                for (size_t j = 0; j < n_audits; j++)
                        seen = seen || audits[j] == b->archs[i].audit;
                if (!seen)
                        audits[n_audits++] = b->archs[i].audit;
        }
        *out = NULL;
        *n_out = 0;
        if (n_audits == 0)
                return 0;
        f = calloc(2 + n_audits * (2 + STUB_SECTION_MAX), sizeof(*f));
        if (!f)
                return berr_make(err, ENOMEM, "linux.seccomp");

        f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
        for (size_t i = 0; i < n_audits; i++) {
                f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, audits[i], 0, 1);
                dispatch[i] = n;
                f[n++] = STMT(BPF_JMP | BPF_JA, 0);
        }
        to_filter[n_to_filter++] = n;
        f[n++] = STMT(BPF_JMP | BPF_JA, 0);

        for (size_t i = 0; i < n_audits; i++) {
                const struct stub_arch *x64 = NULL, *x32 = NULL, *one = NULL;

                f[dispatch[i]].k = (uint32_t)(n - dispatch[i] - 1);
                f[n++] = STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
                if (audits[i] == AUDIT_ARCH_X86_64) {
                        x64 = stub_find(b, AUDIT_ARCH_X86_64, SCMP_ARCH_X86_64);
                        x32 = stub_find(b, AUDIT_ARCH_X86_64, SCMP_ARCH_X32);
                }
                if (x64 && x32) {
                        f[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
                        f[n++] = JUMP(BPF_JMP | BPF_JGT | BPF_K, x64->max_nr, 1, 2);
                        f[n++] = JUMP(BPF_JMP | BPF_JGT | BPF_K, x32->max_nr, 0, 1);
                        f[n++] = RET_ENOSYS;
                        to_filter[n_to_filter++] = n;
                        f[n++] = STMT(BPF_JMP | BPF_JA, 0);
                        continue;
                }
                for (size_t j = 0; j < b->n_archs && !one; j++)
                        if (b->archs[j].audit == audits[i] && b->archs[j].max_nr > 0)
                                one = &b->archs[j];
                if (one->audit == AUDIT_ARCH_S390 || one->audit == AUDIT_ARCH_S390X)
                        f[n++] = JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
                else if (one->token == SCMP_ARCH_X86_64)
                        f[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 2, 0);
                else if (one->token == SCMP_ARCH_X32)
                        f[n++] = JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 2);
                f[n++] = JUMP(BPF_JMP | BPF_JGT | BPF_K, one->max_nr, 0, 1);
                f[n++] = RET_ENOSYS;
                to_filter[n_to_filter++] = n;
                f[n++] = STMT(BPF_JMP | BPF_JA, 0);
        }
        for (size_t i = 0; i < n_to_filter; i++)
                f[to_filter[i]].k = (uint32_t)(n - to_filter[i] - 1);
        *out = TAKE_PTR(f);
        *n_out = n;
        return 0;
}

static bool default_wants_stub(uint32_t def)
{
        /* Permissive defaults need no ENOSYS answer; TRACE counts as
         * permissive because a tracer handles new syscalls itself. */
        if (def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG ||
            (def & SECCOMP_RET_ACTION_FULL) == SCMP_ACT_TRACE(0))
                return false;
        return def != SCMP_ACT_ERRNO(ENOSYS);
}

/* libseccomp's program for the model, behind the ENOSYS stub. */
static int build_program(const struct model *m, struct sock_filter **out, size_t *n_out, struct berr **err)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        _cleanup_free_ struct sock_filter *body = NULL, *stub = NULL;
        struct builder b = {0};
        size_t n_body = 0, n_stub = 0;
        int r;

        ctx = seccomp_init(m->def_action);
        if (!ctx)
                return berr_make(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused it");
        b.ctx = ctx;
        /* The runtime sets no_new_privs itself, from process.noNewPrivileges. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return berr_make(err, -r, "linux.seccomp: libseccomp attribute NNP");
        for (size_t i = 0; i < m->n_archs; i++) {
                r = seccomp_arch_add(ctx, m->archs[i]);
                if (r < 0 && r != -EEXIST)
                        return berr_make(err, -r, "linux.seccomp.architectures: adding %#x", m->archs[i]);
                b.archs[b.n_archs++] = (struct stub_arch){
                    .token = m->archs[i],
                    /* x32 is x86_64 with bit 30 set in the syscall number. */
                    .audit = m->archs[i] == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : m->archs[i],
                };
        }
        for (size_t i = 0; i < m->n_sets; i++) {
                const struct rule_set *set = &m->sets[i];
                size_t n = json_object_array_length(set->names);

                for (size_t j = 0; j < n; j++) {
                        const char *name = json_object_get_string(json_object_array_get_idx(set->names, j));

                        note_max_nr(&b, name);
                        /* libseccomp refuses rules that repeat the default action. */
                        if (set->action == m->def_action)
                                continue;
                        r = add_rules(&b, set, name, err);
                        if (r < 0)
                                return r;
                }
        }
        /* A binary tree of syscall numbers beats a linear scan on long
         * profiles (runc's threshold; libseccomp <= 2.5.4 mishandles it on
         * empty ones). */
        if (m->n_names > 32 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                log_debug("linux.seccomp: libseccomp cannot build a binary tree filter");

        r = export_bpf(ctx, &body, &n_body, err);
        if (r < 0)
                return r;
        if (default_wants_stub(m->def_action)) {
                r = enosys_stub(&b, &stub, &n_stub, err);
                if (r < 0)
                        return r;
        }
        if (n_stub + n_body > BPF_MAXINSNS)
                return berr_make(
                    err, E2BIG,
                    "linux.seccomp: the filter has %zu instructions, more than the %d the kernel accepts",
                    n_stub + n_body, BPF_MAXINSNS);
        if (n_stub == 0) {
                *out = TAKE_PTR(body);
        } else {
                *out = reallocarray(TAKE_PTR(stub), n_stub + n_body, sizeof(struct sock_filter));
                if (!*out)
                        return berr_make(err, ENOMEM, "linux.seccomp");
                memcpy(*out + n_stub, body, n_body * sizeof(struct sock_filter));
        }
        *n_out = n_stub + n_body;
        return 0;
}

/*
 * Compiled programs cache: libseccomp needs tens of milliseconds for the
 * default profile on three architectures, while a container start is a few.
 * An entry is named after a hash of its key and holds the key itself, which
 * must match byte for byte: a hash collision is a miss, never a wrong
 * filter. The key covers everything the program depends on.
 */
#define CACHE_MAGIC    "BERTHSC1"
#define CACHE_ENTRIES  64
#define CACHE_FILE_MAX ((size_t)OCI_CONFIG_MAX + BPF_MAXINSNS * sizeof(struct sock_filter) + 64)

struct cache_header {
        char magic[8];
        uint32_t key_len;
        uint32_t n_insns;
};

static char *cache_key(json_object *sc, size_t *len)
{
        const struct scmp_version *v = seccomp_version();
        struct utsname u;
        char *key = NULL;
        int n;

        if (uname(&u) < 0)
                return NULL;
        n = asprintf(&key, "berth %s %s\nlibseccomp %u.%u.%u native %#x\nkernel %s\n%s", BERTH_VERSION,
                     BERTH_COMMIT, v->major, v->minor, v->micro, seccomp_arch_native(), u.release,
                     json_to_string(sc, false));
        if (n < 0)
                return NULL;
        *len = (size_t)n;
        return key;
}

static void cache_name(const char *key, size_t len, char name[static 17])
{
        uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */

        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)key[i]) * 0x100000001b3u;
        snprintf(name, 17, "%016" PRIx64, h);
}

static bool cache_load(int dirfd, const char *name, const char *key, size_t key_len, struct sock_filter **out,
                       size_t *n_out)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *buf = NULL;
        struct cache_header h;
        size_t len = 0, body;

        if (fd < 0 || read_all_fd(fd, CACHE_FILE_MAX, &buf, &len, NULL) < 0 || len < sizeof(h))
                return false;
        memcpy(&h, buf, sizeof(h));
        body = (size_t)h.n_insns * sizeof(struct sock_filter);
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.key_len != key_len || h.n_insns == 0 ||
            h.n_insns > BPF_MAXINSNS || len != sizeof(h) + key_len + body ||
            memcmp(buf + sizeof(h), key, key_len) != 0)
                return false;
        *out = malloc(body);
        if (!*out)
                return false;
        memcpy(*out, buf + sizeof(h) + key_len, body);
        *n_out = h.n_insns;
        return true;
}

/* Keeps the newest CACHE_ENTRIES files (by modification time). */
static void cache_evict(int dirfd)
{
        struct entry {
                char name[32];
                struct timespec mtime;
        } old[CACHE_ENTRIES + 1];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t n = 0;
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        /* old[] holds the newest entries seen so far, newest first. */
        while ((de = readdir(d))) {
                struct stat st;
                size_t pos;

                if (strlen(de->d_name) >= sizeof(old[0].name) || streq(de->d_name, ".") ||
                    streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                for (pos = 0; pos < n; pos++)
                        if (st.st_mtim.tv_sec > old[pos].mtime.tv_sec ||
                            (st.st_mtim.tv_sec == old[pos].mtime.tv_sec &&
                             st.st_mtim.tv_nsec > old[pos].mtime.tv_nsec))
                                break;
                if (n == CACHE_ENTRIES + 1) {
                        /* Full: the oldest of the CACHE_ENTRIES + 1 goes. */
                        if (pos == n) {
                                unlinkat(dirfd, de->d_name, 0);
                                continue;
                        }
                        unlinkat(dirfd, old[n - 1].name, 0);
                        n--;
                }
                memmove(&old[pos + 1], &old[pos], (n - pos) * sizeof(old[0]));
                memcpy(old[pos].name, de->d_name, strlen(de->d_name) + 1);
                old[pos].mtime = st.st_mtim;
                n++;
        }
        if (n == CACHE_ENTRIES + 1)
                unlinkat(dirfd, old[n - 1].name, 0);
}

static void cache_store(int dirfd, const char *name, const char *key, size_t key_len,
                        const struct sock_filter *insns, size_t n)
{
        struct cache_header h = {.magic = CACHE_MAGIC, .key_len = (uint32_t)key_len, .n_insns = (uint32_t)n};
        _cleanup_close_ int fd = -1;
        char tmp[64];
        int r;

        snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
                log_debug("seccomp cache: creating %s: %m", tmp);
                return;
        }
        r = write_all(fd, &h, sizeof(h));
        if (r == 0)
                r = write_all(fd, key, key_len);
        if (r == 0)
                r = write_all(fd, insns, n * sizeof(*insns));
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0) {
                log_debug("seccomp cache: storing %s: %s", name, strerror(-r));
                unlinkat(dirfd, tmp, 0);
                return;
        }
        cache_evict(dirfd);
}

int seccomp_prepare_cached(json_object *sc, int cache_dirfd, struct seccomp_prog **out, struct berr **err)
{
        _cleanup_seccomp_prog_ struct seccomp_prog *p = NULL;
        _cleanup_(model_done) struct model m = {0};
        _cleanup_free_ struct sock_filter *insns = NULL;
        _cleanup_free_ char *key = NULL;
        json_object *syscalls, *def;
        size_t n_insns = 0, key_len = 0;
        char name[17];
        int r;

        *out = NULL;
        if (!sc)
                return 0;
        if (!json_object_is_type(sc, json_type_object))
                return berr_make(err, 0, "linux.seccomp: expected an object, got %s",
                                 json_type_label(json_object_get_type(sc)));
        r = json_get(sc, "linux.seccomp", "syscalls", json_type_array, false, &syscalls, err);
        if (r < 0)
                return r;
        if (syscalls)
                m.n_sets = json_object_array_length(syscalls);
        if (m.n_sets > SECCOMP_MAX_ENTRIES)
                return berr_make(err, 0, "linux.seccomp.syscalls: %zu entries, more than the limit of %d",
                                 m.n_sets, SECCOMP_MAX_ENTRIES);
        r = json_get(sc, "linux.seccomp", "defaultAction", json_type_string, false, &def, err);
        if (r < 0)
                return r;
        /* runc treats a profile without default action and rules as none. */
        if (!def && m.n_sets == 0)
                return 0;
        r = parse_action(sc, "linux.seccomp", "defaultAction", "defaultErrnoRet", &m.def_action, err);
        if (r < 0)
                return r;
        if (m.def_action == SCMP_ACT_NOTIFY)
                return berr_make(err, 0,
                                 "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");

        p = calloc(1, sizeof(*p));
        if (!p)
                return berr_make(err, ENOMEM, "linux.seccomp");
        r = parse_flags(p, sc, err);
        if (r < 0)
                return r;
        r = json_get_str(sc, "linux.seccomp", "listenerPath", false, &p->listener_path, err);
        if (r < 0)
                return r;
        r = json_get_str(sc, "linux.seccomp", "listenerMetadata", false, &p->listener_metadata, err);
        if (r < 0)
                return r;
        r = parse_architectures(&m, sc, err);
        if (r < 0)
                return r;
        m.sets = calloc(m.n_sets ? m.n_sets : 1, sizeof(*m.sets));
        if (!m.sets)
                return berr_make(err, ENOMEM, "linux.seccomp");
        for (size_t i = 0; i < m.n_sets; i++) {
                r = parse_syscall(&m, json_object_array_get_idx(syscalls, i), i, &m.sets[i], err);
                if (r < 0)
                        return r;
        }
        if (m.notify && strempty(p->listener_path))
                return berr_make(err, 0,
                                 "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
        p->notify = m.notify;
        if (!p->notify)
                p->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

        if (cache_dirfd >= 0) {
                key = cache_key(sc, &key_len);
                if (key) {
                        cache_name(key, key_len, name);
                        if (cache_load(cache_dirfd, name, key, key_len, &insns, &n_insns)) {
                                p->insns = TAKE_PTR(insns);
                                p->n_insns = (unsigned short)n_insns;
                                *out = TAKE_PTR(p);
                                return 0;
                        }
                }
        }
        r = build_program(&m, &insns, &n_insns, err);
        if (r < 0)
                return r;
        if (key)
                cache_store(cache_dirfd, name, key, key_len, insns, n_insns);
        p->insns = TAKE_PTR(insns);
        p->n_insns = (unsigned short)n_insns;
        *out = TAKE_PTR(p);
        return 0;
}

int seccomp_cache_open(const char *root)
{
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (rootfd < 0)
                return -1;
        if (mkdirat(rootfd, SECCOMP_CACHE_DIR, 0700) < 0 && errno != EEXIST)
                return -1;
        fd = openat(rootfd, SECCOMP_CACHE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /* Only a directory no one else can write holds trusted programs. */
        if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022)) {
                log_debug("seccomp cache: %s/%s is not private, not used", root, SECCOMP_CACHE_DIR);
                return -1;
        }
        return TAKE_FD(fd);
}

int seccomp_prepare(json_object *sc, struct seccomp_prog **out, struct berr **err)
{
        return seccomp_prepare_cached(sc, -1, out, err);
}

int seccomp_install(struct seccomp_prog *p, int *notify_fd, struct berr **err)
{
        struct sock_fprog prog;
        unsigned int flags;
        long r;

        *notify_fd = -1;
        if (!p)
                return 0;
        prog = (struct sock_fprog){.len = p->n_insns, .filter = p->insns};
        flags = seccomp_prog_flags(p);
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (r < 0) {
                if (errno == EACCES)
                        return berr_errno(
                            err, "loading the seccomp filter (it needs noNewPrivileges or CAP_SYS_ADMIN)");
                return berr_errno(err, "loading the seccomp filter (flags %#x)", flags);
        }
        if (p->notify)
                *notify_fd = (int)r;
        return 0;
}

bool seccomp_has_listener(const struct seccomp_prog *p)
{
        return p && p->notify;
}

int seccomp_send_process_to_listener(const struct seccomp_prog *p, int notify_fd, pid_t pid,
                                     json_object *state, struct berr **err)
{
        _cleanup_(json_putp) json_object *msg = NULL;
        _cleanup_close_ int sock = -1;
        json_object *fds;
        const char *text;
        int r;

        if (!seccomp_has_listener(p))
                return berr_make(err, EINVAL, "linux.seccomp: no rule uses SCMP_ACT_NOTIFY");
        msg = json_object_new_object();
        fds = json_object_new_array();
        if (!msg || !fds) {
                json_object_put(fds);
                return berr_make(err, ENOMEM, "linux.seccomp.listenerPath");
        }
        json_object_object_add(msg, "ociVersion", json_object_new_string(OCI_VERSION));
        json_object_array_add(fds, json_object_new_string("seccompFd"));
        json_object_object_add(msg, "fds", fds);
        json_object_object_add(msg, "pid", json_object_new_int64(pid));
        if (!strempty(p->listener_metadata))
                json_object_object_add(msg, "metadata", json_object_new_string(p->listener_metadata));
        json_object_object_add(msg, "state", json_object_get(state));
        text = json_to_string(msg, false);
        if (!text)
                return berr_make(err, ENOMEM, "linux.seccomp.listenerPath");

        sock = unix_connect(p->listener_path, SOCK_STREAM);
        if (sock < 0)
                return berr_make(err, -sock,
                                 "linux.seccomp.listenerPath: connecting to the seccomp agent at %s",
                                 p->listener_path);
        r = socket_send_fds(sock, &notify_fd, 1, text, strlen(text));
        if (r < 0)
                return berr_make(err, -r, "linux.seccomp.listenerPath: sending the notify fd to %s",
                                 p->listener_path);
        return 0;
}

int seccomp_forward_to_listener(const struct seccomp_prog *p, int pidfd, int remote_fd, pid_t pid,
                                json_object *state, struct berr **err)
{
        _cleanup_close_ int fd = (int)syscall(SYS_pidfd_getfd, pidfd, remote_fd, 0);

        if (fd < 0)
                return berr_errno(err, "take the seccomp notify fd %d of process %d", remote_fd, (int)pid);
        return seccomp_send_process_to_listener(p, fd, pid, state, err);
}

int seccomp_send_to_listener(const struct seccomp_prog *p, int notify_fd, json_object *state,
                             struct berr **err)
{
        json_object *pid = NULL;

        json_object_object_get_ex(state, "pid", &pid);
        return seccomp_send_process_to_listener(p, notify_fd, (pid_t)json_object_get_int(pid), state, err);
}

unsigned int seccomp_prog_flags(const struct seccomp_prog *p)
{
        return p->flags | (p->notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0);
}

size_t seccomp_prog_length(const struct seccomp_prog *p)
{
        return p->n_insns;
}

void seccomp_prog_free(struct seccomp_prog *p)
{
        if (!p)
                return;
        free(p->insns);
        free(p->listener_path);
        free(p->listener_metadata);
        free(p);
}

json_object *seccomp_features(void)
{
        json_object *o = json_object_new_object();
        json_object *acts = json_object_new_array(), *ops = json_object_new_array();
        json_object *archs = json_object_new_array(), *known = json_object_new_array();
        json_object *supported = json_object_new_array();

        for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
                if (kernel_has_action(actions[i].value))
                        json_object_array_add(acts, json_object_new_string(actions[i].name));
        for (size_t i = 0; i < ARRAY_SIZE(operators); i++)
                json_object_array_add(ops, json_object_new_string(operators[i].name));
        for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
                if (arch_token(arch_names[i]))
                        json_object_array_add(archs, json_object_new_string(arch_names[i]));
        for (size_t i = 0; i < ARRAY_SIZE(filter_flags); i++) {
                json_object_array_add(known, json_object_new_string(filter_flags[i].name));
                if (!filter_flags[i].value || kernel_has_filter_flag(filter_flags[i].value))
                        json_object_array_add(supported, json_object_new_string(filter_flags[i].name));
        }
        json_object_object_add(o, "enabled", json_object_new_boolean(1));
        json_object_object_add(o, "actions", acts);
        json_object_object_add(o, "operators", ops);
        json_object_object_add(o, "archs", archs);
        json_object_object_add(o, "knownFlags", known);
        json_object_object_add(o, "supportedFlags", supported);
        return o;
}
