/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Costs of the default seccomp profile along a container start:
 *   resolve   default.json -> linux.seccomp (engine, once per container)
 *   prepare   linux.seccomp -> BPF (runtime process, before clone)
 *   install   seccomp(2) in a fresh child (the container's init)
 * and the alternative of keeping the libseccomp context and calling
 * seccomp_load() in the child (libseccomp generates the BPF there), plus the
 * per-syscall cost of the loaded filter. Prints medians in microseconds.
 *   bench-seccomp PROFILE [ROUNDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "runtime/seccomp-default.h"
#include "runtime/seccomp.h"

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return v[n / 2];
}

static void die(const char *what, struct berr *err)
{
        fprintf(stderr, "bench-seccomp: %s: %s\n", what, err ? err->msg : strerror(errno));
        exit(1);
}

/* The same filter through libseccomp's own loader: a context built from the
 * resolved profile (rules as seccomp_prepare adds them, no ENOSYS stub). */
static scmp_filter_ctx build_ctx(json_object *sc)
{
        static const struct {
                const char *name;
                uint32_t act;
        } acts[] = {{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW}, {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)}};
        static const struct {
                const char *name;
                enum scmp_compare op;
        } ops[] = {{"SCMP_CMP_EQ", SCMP_CMP_EQ},
                   {"SCMP_CMP_LT", SCMP_CMP_LT},
                   {"SCMP_CMP_GT", SCMP_CMP_GT},
                   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
        json_object *l, *archs;
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(1));

        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (json_object_object_get_ex(sc, "architectures", &archs))
                for (size_t i = 1; i < json_object_array_length(archs); i++) {
                        char lower[32];
                        const char *n = json_object_get_string(json_object_array_get_idx(archs, i)) + 10;
                        size_t j;
                        for (j = 0; n[j] && j < sizeof(lower) - 1; j++)
                                lower[j] = (char)(n[j] >= 'A' && n[j] <= 'Z' ? n[j] + 32 : n[j]);
                        lower[j] = '\0';
                        seccomp_arch_add(ctx, seccomp_arch_resolve_name(lower));
                }
        json_object_object_get_ex(sc, "syscalls", &l);
        for (size_t i = 0; i < json_object_array_length(l); i++) {
                json_object *r = json_object_array_get_idx(l, i), *names, *act, *args = NULL, *e;
                struct scmp_arg_cmp c[6];
                unsigned int n_args = 0;
                uint32_t a = 0;

                json_object_object_get_ex(r, "names", &names);
                json_object_object_get_ex(r, "action", &act);
                json_object_object_get_ex(r, "args", &args);
                for (size_t k = 0; k < 2; k++)
                        if (streq(acts[k].name, json_object_get_string(act)))
                                a = acts[k].act;
                if (json_object_object_get_ex(r, "errnoRet", &e))
                        a = SCMP_ACT_ERRNO(json_object_get_int(e));
                for (size_t k = 0; args && k < json_object_array_length(args) && k < 6; k++) {
                        json_object *arg = json_object_array_get_idx(args, k), *v;
                        c[k] = (struct scmp_arg_cmp){0};
                        json_object_object_get_ex(arg, "index", &v);
                        c[k].arg = (unsigned int)json_object_get_int(v);
                        json_object_object_get_ex(arg, "value", &v);
                        c[k].datum_a = json_object_get_uint64(v);
                        json_object_object_get_ex(arg, "op", &v);
                        for (size_t m = 0; m < 4; m++)
                                if (streq(ops[m].name, json_object_get_string(v)))
                                        c[k].op = ops[m].op;
                        n_args++;
                }
                for (size_t k = 0; k < json_object_array_length(names); k++) {
                        int nr = seccomp_syscall_resolve_name(
                            json_object_get_string(json_object_array_get_idx(names, k)));
                        if (nr != __NR_SCMP_ERROR && a != SCMP_ACT_ERRNO(1))
                                seccomp_rule_add_array(ctx, a, nr, n_args, c);
                }
        }
        return ctx;
}

enum child_mode { CHILD_INSTALL, CHILD_CTX_LOAD, CHILD_SYSCALLS };
#define SYSCALL_LOOPS 200000

/* Forks a child that does the step and writes its duration (us) to a pipe. */
static double in_child(enum child_mode mode, struct seccomp_prog *p, scmp_filter_ctx ctx)
{
        int fds[2], status;
        double d = -1;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                die("pipe", NULL);
        pid = fork();
        if (pid < 0)
                die("fork", NULL);
        if (pid == 0) {
                struct berr *err = NULL;
                double t0;
                int fd;

                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                t0 = now_us();
                if (mode == CHILD_CTX_LOAD) {
                        if (seccomp_load(ctx) < 0)
                                _exit(1);
                } else if (mode == CHILD_INSTALL || p) {
                        if (seccomp_install(p, &fd, &err) < 0)
                                _exit(1);
                }
                if (mode == CHILD_SYSCALLS) {
                        t0 = now_us();
                        for (int i = 0; i < SYSCALL_LOOPS; i++)
                                syscall(SYS_getppid);
                }
                d = now_us() - t0;
                if (write(fds[1], &d, sizeof(d)) != sizeof(d))
                        _exit(1);
                _exit(0);
        }
        close(fds[1]);
        if (read(fds[0], &d, sizeof(d)) != sizeof(d))
                d = -1;
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (d < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("child", NULL);
        return d;
}

int main(int argc, char **argv)
{
        size_t rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 50;
        struct seccomp_target t = {.caps = (1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) |
                                           (1u << 6) | (1u << 7) | (1u << 8) | (1u << 10) | (1u << 13) |
                                           (1u << 18) | (1u << 27) | (1u << 29) | (1u << 31)};
        double *resolve = calloc(rounds, sizeof(double)), *prep = calloc(rounds, sizeof(double));
        double *inst = calloc(rounds, sizeof(double)), *load = calloc(rounds, sizeof(double));
        double *plain = calloc(rounds, sizeof(double)), *filtered = calloc(rounds, sizeof(double));
        double *cached = calloc(rounds, sizeof(double));
        char cache_dir[] = "/tmp/berth-bench-seccomp.XXXXXX";
        int cache_fd;
        struct seccomp_prog *p = NULL;
        struct berr *err = NULL;
        json_object *profile, *sc = NULL;
        scmp_filter_ctx ctx;

        if (argc < 2 || rounds == 0) {
                fprintf(stderr, "usage: bench-seccomp PROFILE [ROUNDS]\n");
                return 2;
        }
        if (seccomp_profile_load(argv[1], &profile, &err) < 0)
                die("load", err);
        for (size_t i = 0; i < rounds; i++) {
                double t0 = now_us();
                json_object_put(sc);
                if (seccomp_profile_resolve(profile, &t, &sc, &err) < 0)
                        die("resolve", err);
                resolve[i] = now_us() - t0;
        }
        for (size_t i = 0; i < rounds; i++) {
                double t0 = now_us();
                seccomp_prog_free(p);
                if (seccomp_prepare(sc, &p, &err) < 0)
                        die("prepare", err);
                prep[i] = now_us() - t0;
        }
        if (!mkdtemp(cache_dir) || (cache_fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                die("cache dir", NULL);
        for (size_t i = 0; i <= rounds; i++) {
                struct seccomp_prog *c = NULL;
                double t0 = now_us();
                if (seccomp_prepare_cached(sc, cache_fd, &c, &err) < 0)
                        die("prepare_cached", err);
                /* Round 0 fills the cache. */
                if (i > 0)
                        cached[i - 1] = now_us() - t0;
                if (seccomp_prog_length(c) != seccomp_prog_length(p))
                        die("cached program differs", NULL);
                seccomp_prog_free(c);
        }
        close(cache_fd);
        rm_rf_at(AT_FDCWD, cache_dir, NULL);
        ctx = build_ctx(sc);
        for (size_t i = 0; i < rounds; i++) {
                inst[i] = in_child(CHILD_INSTALL, p, NULL);
                load[i] = in_child(CHILD_CTX_LOAD, NULL, ctx);
        }
        for (size_t i = 0; i < 5 && i < rounds; i++) {
                plain[i] = in_child(CHILD_SYSCALLS, NULL, NULL);
                filtered[i] = in_child(CHILD_SYSCALLS, p, NULL);
        }

        double m_res = median(resolve, rounds), m_prep = median(prep, rounds),
               m_cached = median(cached, rounds);
        double m_inst = median(inst, rounds), m_load = median(load, rounds);
        size_t n_sys = rounds < 5 ? rounds : 5;
        double ns_plain = median(plain, n_sys) * 1e3 / SYSCALL_LOOPS;
        double ns_filt = median(filtered, n_sys) * 1e3 / SYSCALL_LOOPS;

        printf("default profile: %zu BPF instructions, %zu rounds (medians)\n", seccomp_prog_length(p),
               rounds);
        printf("  resolve (engine)                    %8.1f us\n", m_res);
        printf("  prepare (runtime, before clone)     %8.1f us\n", m_prep);
        printf("  prepare with a warm cache           %8.1f us   ratio %.0fx faster\n", m_cached,
               m_prep / m_cached);
        printf("  install in the child (berth)        %8.1f us\n", m_inst);
        printf("  seccomp_load(ctx) in the child      %8.1f us   ratio load/install %.1fx\n", m_load,
               m_load / m_inst);
        printf("  compile in the child (runc's way)   %8.1f us   ratio %.1fx\n", m_prep + m_inst,
               (m_prep + m_inst) / m_inst);
        printf("  getppid without filter              %8.1f ns\n", ns_plain);
        printf("  getppid under the filter            %8.1f ns   (+%.1f ns)\n", ns_filt, ns_filt - ns_plain);
        seccomp_release(ctx);
        seccomp_prog_free(p);
        json_object_put(sc);
        json_object_put(profile);
        free(resolve);
        free(prep);
        free(inst);
        free(load);
        free(plain);
        free(filtered);
        free(cached);
        return 0;
}
