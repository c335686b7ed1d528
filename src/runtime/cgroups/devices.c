/* SPDX-License-Identifier: Apache-2.0 */
/* Device access: the rule list, and the cgroup v2 eBPF filter built from it. */
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>

#include "cgroup-internal.h"

int cgroup_devices_rules(const struct cgroup_resources *res, struct cgroup_device_rule **out, size_t *n,
                         struct berr **err)
{
        size_t total = res->n_devices + cgroup_n_default_devices;
        struct cgroup_device_rule *r = calloc(total, sizeof(*r));

        if (!r)
                return berr_make(err, ENOMEM, "devices");
        if (res->n_devices)
                memcpy(r, res->devices, res->n_devices * sizeof(*r));
        memcpy(r + res->n_devices, cgroup_default_devices, cgroup_n_default_devices * sizeof(*r));
        *out = r;
        *n = total;
        return 0;
}

/*
 * The program sees struct bpf_cgroup_dev_ctx: access_type (device type in
 * the low 16 bits, access bits in the high 16), major, minor. It returns 1
 * to allow. Rules are tested from the last to the first so the last
 * matching rule decides, as with the v1 allow/deny lists; nothing matching
 * is denied. Registers: r2 type, r3 access, r4 major, r5 minor, r1 scratch.
 */
#define INSN(c, d, s, o, i)                                                                                  \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, o)     INSN(BPF_LDX | BPF_MEM | BPF_W, dst, src, o, 0)
#define ALU32_K(op, dst, k)    INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, k)
#define MOV64_X(dst, src)      INSN(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define MOV64_K(dst, k)        INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, k)
#define JMP32_K(op, dst, k, o) INSN(BPF_JMP32 | (op) | BPF_K, dst, 0, o, k)
#define EXIT()                 INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static size_t rule_len(const struct cgroup_device_rule *r)
{
        size_t n = 2; /* r0 = verdict; exit */

        if (r->type != 'a') {
                n++;
                n += r->major >= 0;
                n += r->minor >= 0;
                if ((r->access & CGROUP_DEV_ALL) != CGROUP_DEV_ALL)
                        n += 3;
        }
        return n;
}

int cgroup_devices_bpf_build(const struct cgroup_device_rule *rules, size_t n, struct bpf_insn **out,
                             size_t *n_insns, struct berr **err)
{
        size_t total = 6 + 2, i = 0;
        struct bpf_insn *p;

        for (size_t k = 0; k < n; k++)
                total += rule_len(&rules[k]);
        p = calloc(total, sizeof(*p));
        if (!p)
                return berr_make(err, ENOMEM, "device filter");
        p[i++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);
        p[i++] = ALU32_K(BPF_AND, BPF_REG_2, 0xffff);
        p[i++] = LDX_W(BPF_REG_3, BPF_REG_1, 0);
        p[i++] = ALU32_K(BPF_RSH, BPF_REG_3, 16);
        p[i++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);
        p[i++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);
        for (size_t k = n; k-- > 0;) {
                const struct cgroup_device_rule *r = &rules[k];
                size_t start = i, len = rule_len(r);
                /* Jumps land on the next rule: offset counts from the insn after the jump. */
#define SKIP ((short)(start + len - i - 1))

                if (r->type != 'a') {
                        int t = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
                        unsigned acc = r->access & CGROUP_DEV_ALL;

                        p[i] = JMP32_K(BPF_JNE, BPF_REG_2, t, SKIP);
                        i++;
                        if (r->major >= 0) {
                                p[i] = JMP32_K(BPF_JNE, BPF_REG_4, (int32_t)(uint32_t)r->major, SKIP);
                                i++;
                        }
                        if (r->minor >= 0) {
                                p[i] = JMP32_K(BPF_JNE, BPF_REG_5, (int32_t)(uint32_t)r->minor, SKIP);
                                i++;
                        }
                        if (acc != CGROUP_DEV_ALL) {
                                /* An allow rule covers a request within its access; a deny
                                 * rule refuses a request touching any of its access. */
                                p[i++] = MOV64_X(BPF_REG_1, BPF_REG_3);
                                if (r->allow) {
                                        p[i++] =
                                            ALU32_K(BPF_AND, BPF_REG_1, (int32_t)(~acc & CGROUP_DEV_ALL));
                                        p[i] = JMP32_K(BPF_JNE, BPF_REG_1, 0, SKIP);
                                } else {
                                        p[i++] = ALU32_K(BPF_AND, BPF_REG_1, (int32_t)acc);
                                        p[i] = JMP32_K(BPF_JEQ, BPF_REG_1, 0, SKIP);
                                }
                                i++;
                        }
                }
                p[i++] = MOV64_K(BPF_REG_0, r->allow ? 1 : 0);
                p[i++] = EXIT();
#undef SKIP
        }
        p[i++] = MOV64_K(BPF_REG_0, 0);
        p[i++] = EXIT();
        *out = p;
        *n_insns = i;
        return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
        return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The ids of the device programs attached to the cgroup now. */
static int query_attached(int dirfd, uint32_t *ids, uint32_t *n)
{
        union bpf_attr attr = {};

        attr.query.target_fd = (uint32_t)dirfd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = *n;
        if (sys_bpf(BPF_PROG_QUERY, &attr) < 0)
                return -errno;
        *n = attr.query.prog_cnt;
        return 0;
}

int cgroup_devices_bpf_attach(int dirfd, const char *dirpath, const struct bpf_insn *insns, size_t n,
                              struct berr **err)
{
        static const char license[] = "Apache-2.0";
        _cleanup_close_ int prog = -1;
        uint32_t old[64], n_old = ARRAY_SIZE(old);
        union bpf_attr attr = {};
        char log[4096] = "";

        if (n > BPF_MAXINSNS)
                return berr_make(err, E2BIG, "the device filter has %zu instructions, more than %d", n,
                                 BPF_MAXINSNS);
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t)license;
        prog = sys_bpf(BPF_PROG_LOAD, &attr);
        if (prog < 0) {
                int saved = errno;
                /* Load again with the verifier log to say why. */
                attr.log_buf = (uint64_t)(uintptr_t)log;
                attr.log_size = sizeof(log);
                attr.log_level = 1;
                (void)sys_bpf(BPF_PROG_LOAD, &attr);
                log[strcspn(log, "\n")] = '\0';
                errno = saved;
                return berr_errno(err, "load the eBPF device filter%s%s", *log ? ": " : "", log);
        }
        if (query_attached(dirfd, old, &n_old) < 0)
                n_old = 0;
        n_old = MIN(n_old, (uint32_t)ARRAY_SIZE(old));

        attr = (union bpf_attr){};
        attr.target_fd = (uint32_t)dirfd;
        attr.attach_bpf_fd = (uint32_t)prog;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
                return berr_errno(err, "attach the eBPF device filter to %s", dirpath);

        /* The new filter is in place: drop the ones it replaces (an update, a reused cgroup). */
        for (uint32_t k = 0; k < n_old; k++) {
                _cleanup_close_ int fd = -1;

                attr = (union bpf_attr){};
                attr.prog_id = old[k];
                fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
                if (fd < 0)
                        continue;
                attr = (union bpf_attr){};
                attr.target_fd = (uint32_t)dirfd;
                attr.attach_bpf_fd = (uint32_t)fd;
                attr.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &attr) < 0 && errno != ENOENT)
                        return berr_errno(err, "detach the previous eBPF device filter from %s", dirpath);
        }
        return 0;
}
