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
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/json.h"
#include "basic/log.h"
#include "basic/socket.h"
#include "oci/spec.h"
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

struct stub_arch {
        uint32_t token;
        uint32_t audit; /* what the kernel reports in seccomp_data.arch */
        uint32_t max_nr;
};

struct builder {
        scmp_filter_ctx ctx;
        uint32_t def_action;
        struct stub_arch archs[ARRAY_SIZE(arch_names)];
        size_t n_archs;
        size_t n_names;
        bool notify;
};

static void note_max_nr(struct builder *b, const char *name)
{
        for (size_t i = 0; i < b->n_archs; i++) {
                int nr = seccomp_syscall_resolve_name_arch(b->archs[i].token, name);
                if (nr > 0 && (uint32_t)nr > b->archs[i].max_nr)
                        b->archs[i].max_nr = (uint32_t)nr;
        }
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

static int add_rules(struct builder *b, const char *path, const char *name, uint32_t action,
                     const struct scmp_arg_cmp *conds, size_t n_conds, bool split, struct berr **err)
{
        int nr = seccomp_syscall_resolve_name(name);
        int r = 0;

        if (nr == __NR_SCMP_ERROR) {
                log_debug("%s: unknown syscall `%s` ignored", path, name);
                return 0;
        }
        /* Conditions on the same argument cannot all hold at once; like runc,
         * each becomes a rule of its own, so any of them matches. */
        if (split) {
                for (size_t i = 0; i < n_conds && r == 0; i++)
                        r = seccomp_rule_add_array(b->ctx, action, nr, 1, &conds[i]);
        } else {
                r = seccomp_rule_add_array(b->ctx, action, nr, (unsigned int)n_conds, conds);
        }
        if (r < 0)
                return berr_make(err, -r, "%s: adding the rule for `%s`", path, name);
        return 0;
}

static int parse_syscall(struct builder *b, json_object *e, size_t idx, struct berr **err)
{
        struct scmp_arg_cmp conds[SECCOMP_MAX_ARGS];
        unsigned int per_index[SECCOMP_ARG_INDEX_MAX + 1] = {0};
        json_object *names, *args;
        size_t n_names, n_args = 0;
        bool split = false;
        uint32_t action;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "linux.seccomp.syscalls[%zu]", idx);
        if (!json_object_is_type(e, json_type_object))
                return berr_make(err, 0, "%s: expected an object, got %s", path,
                                 json_type_label(json_object_get_type(e)));
        r = json_get(e, path, "names", json_type_array, true, &names, err);
        if (r < 0)
                return r;
        r = parse_action(e, path, "action", "errnoRet", &action, err);
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
        }
        for (size_t i = 0; i < n_args; i++) {
                char apath[96];

                snprintf(apath, sizeof(apath), "%s.args[%zu]", path, i);
                r = parse_arg(json_object_array_get_idx(args, i), apath, &conds[i], err);
                if (r < 0)
                        return r;
                if (++per_index[conds[i].arg] > 1)
                        split = true;
        }

        n_names = json_object_array_length(names);
        b->n_names += n_names;
        if (b->n_names > SECCOMP_MAX_NAMES)
                return berr_make(err, 0, "%s.names: more than the limit of %d syscall names in a profile",
                                 path, SECCOMP_MAX_NAMES);
        for (size_t i = 0; i < n_names; i++) {
                json_object *v = json_object_array_get_idx(names, i);
                const char *name;

                if (!json_object_is_type(v, json_type_string))
                        return berr_make(err, 0, "%s.names[%zu]: expected a string, got %s", path, i,
                                         json_type_label(json_object_get_type(v)));
                name = json_object_get_string(v);
                if (!*name)
                        return berr_make(err, 0, "%s.names[%zu]: empty syscall name", path, i);
                note_max_nr(b, name);
                /* libseccomp refuses rules that repeat the default action. */
                if (action == b->def_action)
                        continue;
                if (action == SCMP_ACT_NOTIFY) {
                        /* The init writes the notify fd's number to the runtime
                         * after loading the filter: a notified write would hang. */
                        if (streq(name, "write"))
                                return berr_make(err, 0,
                                                 "%s.names[%zu]: SCMP_ACT_NOTIFY cannot be used for `write`",
                                                 path, i);
                        b->notify = true;
                }
                r = add_rules(b, path, name, action, conds, n_args, split, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_architectures(struct builder *b, json_object *sc, struct berr **err)
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
                            "linux.seccomp.architectures[%zu]: %s is not supported by libseccomp %u.%u.%u", i,
                            name, seccomp_version()->major, seccomp_version()->minor,
                            seccomp_version()->micro);
                r = seccomp_arch_add(b->ctx, token);
                if (r < 0 && r != -EEXIST)
                        return berr_make(err, -r, "linux.seccomp.architectures[%zu]: adding %s", i, name);
                for (size_t j = 0; j < b->n_archs; j++)
                        seen = seen || b->archs[j].token == token;
                if (!seen)
                        b->archs[b->n_archs++] = (struct stub_arch){
                            .token = token,
                            /* x32 is x86_64 with bit 30 set in the syscall number. */
                            .audit = token == SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token,
                        };
        }
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

/* A stub arch with this audit value, other than skip, that names syscalls. */
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

static int build_program(struct seccomp_prog *p, struct builder *b, struct berr **err)
{
        _cleanup_free_ struct sock_filter *body = NULL, *stub = NULL;
        size_t n_body = 0, n_stub = 0;
        int r;

        r = export_bpf(b->ctx, &body, &n_body, err);
        if (r < 0)
                return r;
        if (default_wants_stub(b->def_action)) {
                r = enosys_stub(b, &stub, &n_stub, err);
                if (r < 0)
                        return r;
        }
        if (n_stub + n_body > BPF_MAXINSNS)
                return berr_make(
                    err, E2BIG,
                    "linux.seccomp: the filter has %zu instructions, more than the %d the kernel accepts",
                    n_stub + n_body, BPF_MAXINSNS);
        if (n_stub == 0) {
                p->insns = TAKE_PTR(body);
        } else {
                p->insns = reallocarray(TAKE_PTR(stub), n_stub + n_body, sizeof(struct sock_filter));
                if (!p->insns)
                        return berr_make(err, ENOMEM, "linux.seccomp");
                memcpy(p->insns + n_stub, body, n_body * sizeof(struct sock_filter));
        }
        p->n_insns = (unsigned short)(n_stub + n_body);
        return 0;
}

int seccomp_prepare(json_object *sc, struct seccomp_prog **out, struct berr **err)
{
        _cleanup_seccomp_prog_ struct seccomp_prog *p = NULL;
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        struct builder b = {0};
        json_object *syscalls, *def;
        size_t n_syscalls = 0;
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
                n_syscalls = json_object_array_length(syscalls);
        if (n_syscalls > SECCOMP_MAX_ENTRIES)
                return berr_make(err, 0, "linux.seccomp.syscalls: %zu entries, more than the limit of %d",
                                 n_syscalls, SECCOMP_MAX_ENTRIES);
        r = json_get(sc, "linux.seccomp", "defaultAction", json_type_string, false, &def, err);
        if (r < 0)
                return r;
        /* runc treats a profile without default action and rules as none. */
        if (!def && n_syscalls == 0)
                return 0;
        r = parse_action(sc, "linux.seccomp", "defaultAction", "defaultErrnoRet", &b.def_action, err);
        if (r < 0)
                return r;
        if (b.def_action == SCMP_ACT_NOTIFY)
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

        ctx = seccomp_init(b.def_action);
        if (!ctx)
                return berr_make(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused it");
        b.ctx = ctx;
        /* The runtime sets no_new_privs itself, from process.noNewPrivileges. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return berr_make(err, -r, "linux.seccomp: libseccomp attribute NNP");
        r = parse_architectures(&b, sc, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_syscalls; i++) {
                r = parse_syscall(&b, json_object_array_get_idx(syscalls, i), i, err);
                if (r < 0)
                        return r;
        }
        if (b.notify && strempty(p->listener_path))
                return berr_make(err, 0,
                                 "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
        p->notify = b.notify;
        if (!p->notify)
                p->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        /* A binary tree of syscall numbers beats a linear scan on long
         * profiles (runc's threshold; libseccomp <= 2.5.4 mishandles it
         * on empty ones). */
        if (b.n_names > 32 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
                log_debug("linux.seccomp: libseccomp cannot build a binary tree filter");
        r = build_program(p, &b, err);
        if (r < 0)
                return r;
        *out = TAKE_PTR(p);
        return 0;
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

        sock = socket_connect_unix(p->listener_path, err);
        if (sock < 0)
                return berr_wrap(err, "linux.seccomp.listenerPath: seccomp agent");
        r = socket_send_fds(sock, text, strlen(text), &notify_fd, 1, err);
        if (r < 0)
                return berr_wrap(err, "sending the seccomp notify fd to %s", p->listener_path);
        return 0;
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
