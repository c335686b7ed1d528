/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/json.h"
#include "basic/socket.h"
#include "basic/strv.h"
#include "oci/spec.h"
#include "runtime/seccomp-default.h"
#include "runtime/seccomp.h"

/* JSON written with single quotes, to keep the C strings readable. */
static json_object *J(const char *text)
{
        _cleanup_free_ char *s = strdup(text);
        _cleanup_berr_ struct berr *err = NULL;
        json_object *o = NULL;

        for (char *c = s; *c; c++)
                if (*c == '\'')
                        *c = '"';
        if (json_parse_buf(s, strlen(s), "test", &o, &err) < 0)
                fail_msg("bad test JSON %s: %s", s, err->msg);
        return o;
}

static struct seccomp_prog *prepare(const char *text)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p = NULL;
        json_object *o = J(text);

        if (seccomp_prepare(o, &p, &err) < 0)
                fail_msg("seccomp_prepare(%s): %s", text, err->msg);
        json_object_put(o);
        assert_non_null(p);
        return p;
}

static void expect_error(const char *text, const char *fragment)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p = NULL;
        json_object *o = J(text);

        if (seccomp_prepare(o, &p, &err) >= 0)
                fail_msg("seccomp_prepare(%s) succeeded, expected `%s`", text, fragment);
        assert_null(p);
        assert_non_null(err);
        if (!strstr(err->msg, fragment))
                fail_msg("error `%s` does not mention `%s`", err->msg, fragment);
        json_object_put(o);
}

/* cmocka catches SIGSYS and SIGSEGV to report failures: a forked child
 * must die of them instead of running the remaining tests. */
static void child_reset_signals(void)
{
        signal(SIGSYS, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
}

/* Exits without libc's or the sanitizers' exit work, which needs syscalls a
 * filter under test may refuse (LeakSanitizer's check; ASan's handling of
 * noreturn calls, which is why this is not marked noreturn). */
static void child_exit(int code)
{
        for (;;)
                syscall(SYS_exit_group, code);
}

/* Runs fn in a child under the filter (as the container's init would, with
 * no_new_privs) and returns its wait status. */
static int run_filtered(struct seccomp_prog *p, int (*fn)(void *), void *arg)
{
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                struct berr *err = NULL;
                int fd;

                child_reset_signals();
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        child_exit(120);
                if (seccomp_install(p, &fd, &err) < 0) {
                        fprintf(stderr, "install: %s\n", err->msg);
                        child_exit(121);
                }
                child_exit(fn(arg));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static int exit_code(int status)
{
        if (!WIFEXITED(status))
                fail_msg("child did not exit: status %#x (signal %d)", status,
                         WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        return WEXITSTATUS(status);
}

/* 0 if the call succeeds, else its errno. Extra arguments reach seccomp's
 * view of the registers even when the syscall ignores them. */
static int try_getppid(long a0, long a1)
{
        return syscall(SYS_getppid, a0, a1) < 0 ? errno : 0;
}

static int child_getppid(void *arg)
{
        return try_getppid(0, 0);
}

static void test_errno_action(void **state)
{
        struct seccomp_prog *p;

        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "ERRNO','errnoRet':42}]}");
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 42);
        seccomp_prog_free(p);
        /* Without errnoRet: EPERM, as runc. */
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "ERRNO'}]}");
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), EPERM);
        seccomp_prog_free(p);
}

static int child_getppid_getpid(void *arg)
{
        int a = try_getppid(0, 0);
        int b = syscall(SYS_getpid) < 0 ? errno : 0;
        return a == 0 && b != 0 ? b : 200 + a;
}

static void test_default_errno_ret(void **state)
{
        /* Everything but getppid and exit fails with defaultErrnoRet. */
        struct seccomp_prog *p =
            prepare("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':99,"
                    "'syscalls':[{'names':['getppid','exit_group','exit'],'action':'SCMP_ACT_ALLOW'}]}");

        assert_int_equal(exit_code(run_filtered(p, child_getppid_getpid, NULL)), 99);
        seccomp_prog_free(p);
}

static void expect_sigsys(const char *action)
{
        char text[256];
        struct seccomp_prog *p;
        int status;

        snprintf(text, sizeof(text),
                 "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'%s'}]}",
                 action);
        p = prepare(text);
        status = run_filtered(p, child_getppid, NULL);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
                fail_msg("%s: child status %#x, expected death by SIGSYS", action, status);
        seccomp_prog_free(p);
}

static void test_kill_actions(void **state)
{
        expect_sigsys("SCMP_ACT_KILL");
        expect_sigsys("SCMP_ACT_KILL_THREAD");
        expect_sigsys("SCMP_ACT_KILL_PROCESS");
}

static volatile sig_atomic_t trapped_syscall = -1;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
        trapped_syscall = si->si_syscall;
}

static int child_trap(void *arg)
{
        struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

        if (sigaction(SIGSYS, &sa, NULL) < 0)
                return 100;
        try_getppid(0, 0);
        return trapped_syscall == SYS_getppid ? 0 : 101;
}

static void test_trap_action(void **state)
{
        struct seccomp_prog *p = prepare(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_TRAP'}]}");

        /* TRAP delivers a catchable SIGSYS naming the syscall; KILL would not. */
        assert_int_equal(exit_code(run_filtered(p, child_trap, NULL)), 0);
        /* Uncaught, the SIGSYS ends the process. */
        expect_sigsys("SCMP_ACT_TRAP");
        seccomp_prog_free(p);
}

static void test_log_and_allow_actions(void **state)
{
        struct seccomp_prog *p = prepare(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_LOG'}]}");

        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 0);
        seccomp_prog_free(p);
        p = prepare("{'defaultAction':'SCMP_ACT_LOG','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "ERRNO','errnoRet':3}]}");
        assert_int_equal(exit_code(run_filtered(p, child_getppid_getpid, NULL)), 203);
        seccomp_prog_free(p);
}

static void test_trace_action(void **state)
{
        /* Without a tracer attached the kernel fails the syscall with ENOSYS. */
        struct seccomp_prog *p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],"
                                         "'action':'SCMP_ACT_TRACE','errnoRet':5}]}");

        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), ENOSYS);
        seccomp_prog_free(p);
}

/* Probes getppid with arg0 = each value; bit i of the result is set when
 * call i was refused. */
struct probe {
        uint64_t a0[8], a1[8];
        size_t n;
};

static int child_probe(void *arg)
{
        const struct probe *pr = arg;
        int mask = 0;

        for (size_t i = 0; i < pr->n; i++) {
                int e = try_getppid((long)pr->a0[i], (long)pr->a1[i]);
                if (e == 7)
                        mask |= 1 << i;
                else if (e != 0)
                        return 100 + e;
        }
        return mask;
}

static int probe_mask(const char *args, const struct probe *pr)
{
        char text[512];
        struct seccomp_prog *p;
        int code;

        snprintf(
            text, sizeof(text),
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_ERRNO',"
            "'errnoRet':7,'args':%s}]}",
            args);
        p = prepare(text);
        code = exit_code(run_filtered(p, child_probe, (void *)pr));
        seccomp_prog_free(p);
        return code;
}

static void test_operators(void **state)
{
        const struct probe pr = {.a0 = {4, 5, 6, 0x100000005}, .n = 4};
        const struct probe masked = {.a0 = {0x5a, 0x6a, 0x50, 0xa5}, .n = 4};

        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_EQ'}]", &pr), 0x2);
        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_NE'}]", &pr), 0xd);
        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_LT'}]", &pr), 0x1);
        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_LE'}]", &pr), 0x3);
        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_GT'}]", &pr), 0xc);
        assert_int_equal(probe_mask("[{'index':0,'value':5,'op':'SCMP_CMP_GE'}]", &pr), 0xe);
        /* Full 64-bit comparison. */
        assert_int_equal(probe_mask("[{'index':0,'value':4294967301,'op':'SCMP_CMP_EQ'}]", &pr), 0x8);
        /* (arg & value) == valueTwo */
        assert_int_equal(
            probe_mask("[{'index':0,'value':240,'valueTwo':80,'op':'SCMP_CMP_MASKED_EQ'}]", &masked), 0x5);
}

static void test_argument_combinations(void **state)
{
        const struct probe one = {.a0 = {1, 2, 3}, .n = 3};
        const struct probe two = {.a0 = {1, 1, 2}, .a1 = {2, 3, 2}, .n = 3};

        /* Conditions on one argument: any of them (runc's behaviour). */
        assert_int_equal(
            probe_mask("[{'index':0,'value':1,'op':'SCMP_CMP_EQ'},{'index':0,'value':2,'op':'SCMP_CMP_EQ'}]",
                       &one),
            0x3);
        /* On different arguments: all of them. */
        assert_int_equal(
            probe_mask("[{'index':0,'value':1,'op':'SCMP_CMP_EQ'},{'index':1,'value':2,'op':'SCMP_CMP_EQ'}]",
                       &two),
            0x1);
}

static int child_i386_getpid(void *arg)
{
        long ret;

        /* getpid through the i386 syscall table (number 20). */
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        return ret == getpid() ? 0 : 100;
}

static void test_architectures(void **state)
{
        struct seccomp_prog *p;
        int status;

        /* Syscalls of an architecture the filter does not list are killed. */
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "ERRNO'}]}");
        status = run_filtered(p, child_i386_getpid, NULL);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        seccomp_prog_free(p);

        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86','"
                    "SCMP_ARCH_X32'],"
                    "'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_ERRNO'}]}");
        assert_int_equal(exit_code(run_filtered(p, child_i386_getpid, NULL)), 0);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), EPERM);
        seccomp_prog_free(p);

        /* The i386 rule applies to i386's getpid. */
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86'],"
                    "'syscalls':[{'names':['getpid'],'action':'SCMP_ACT_KILL'}]}");
        status = run_filtered(p, child_i386_getpid, NULL);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        seccomp_prog_free(p);

        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86','x86_64']}",
                     "linux.seccomp.architectures[1]: unknown architecture `x86_64`");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','architectures':[7]}",
                     "linux.seccomp.architectures[0]: expected a string");
}

static int child_enosys_stub(void *arg)
{
        /* 38 (setitimer) is below the highest listed syscall, 232
         * (epoll_wait) above it, 1000 is no syscall at all. */
        int below = syscall(38, 0, 0, 0) < 0 ? errno : 0;
        int above = syscall(232, -1, 0, 0, 0) < 0 ? errno : 0;
        int none = syscall(1000) < 0 ? errno : 0;

        if (syscall(SYS_getppid) < 0)
                return 99;
        return below == EPERM && above == ENOSYS && none == ENOSYS ? 0 : 100 + below;
}

static int child_no_stub(void *arg)
{
        int above = syscall(232, -1, 0, 0, 0) < 0 ? errno : 0;
        return above;
}

static void test_enosys_stub(void **state)
{
        /* exit_group (231) is the highest listed x86_64 syscall. */
        const char *allow =
            "'syscalls':[{'names':['getppid','exit','exit_group'],'action':'SCMP_ACT_ALLOW'}]";
        char text[512];
        struct seccomp_prog *p;

        snprintf(text, sizeof(text),
                 "{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_X86_64'],%s}", allow);
        p = prepare(text);
        assert_int_equal(exit_code(run_filtered(p, child_enosys_stub, NULL)), 0);
        seccomp_prog_free(p);
        /* Only the listed architectures get the stub, as with runc. */
        snprintf(text, sizeof(text), "{'defaultAction':'SCMP_ACT_ERRNO',%s}", allow);
        p = prepare(text);
        assert_int_equal(exit_code(run_filtered(p, child_no_stub, NULL)), EPERM);
        seccomp_prog_free(p);
        /* x86_64 together with x32 (one audit arch, two tables). */
        snprintf(text, sizeof(text),
                 "{'defaultAction':'SCMP_ACT_ERRNO','architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X32','"
                 "SCMP_ARCH_X86'],%s}",
                 allow);
        p = prepare(text);
        assert_int_equal(exit_code(run_filtered(p, child_enosys_stub, NULL)), 0);
        seccomp_prog_free(p);
}

static void test_rules_like_default_are_skipped(void **state)
{
        struct seccomp_prog *p;

        /* libseccomp refuses these rules; runc drops them silently. */
        p = prepare("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,'syscalls':[{'names':['getpid'],"
                    "'action':'SCMP_ACT_ERRNO','errnoRet':1},{'names':['getppid'],'action':'SCMP_ACT_ERRNO'},"
                    "{'names':['exit_group'],'action':'SCMP_ACT_ALLOW'}]}");
        seccomp_prog_free(p);
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "ALLOW'}]}");
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 0);
        seccomp_prog_free(p);
}

static void test_unknown_syscalls_are_skipped(void **state)
{
        struct seccomp_prog *p =
            prepare("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['no_such_syscall',"
                    "'getppid'],'action':'SCMP_ACT_ERRNO','errnoRet':11}]}");

        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 11);
        seccomp_prog_free(p);
}

static void test_disabled(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p = NULL;
        json_object *o = J("{'syscalls':[]}");
        int fd = 0;

        assert_int_equal(seccomp_prepare(NULL, &p, &err), 0);
        assert_null(p);
        assert_int_equal(seccomp_prepare(o, &p, &err), 0);
        assert_null(p);
        assert_int_equal(seccomp_install(NULL, &fd, &err), 0);
        assert_int_equal(fd, -1);
        assert_false(seccomp_has_listener(NULL));
        json_object_put(o);
}

static void test_flags(void **state)
{
        struct seccomp_prog *p;

        /* Absent flags: SPEC_ALLOW where the kernel has it (runc's default). */
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW'}");
        assert_int_equal(seccomp_prog_flags(p), SECCOMP_FILTER_FLAG_SPEC_ALLOW);
        seccomp_prog_free(p);
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','flags':[]}");
        assert_int_equal(seccomp_prog_flags(p), 0);
        seccomp_prog_free(p);
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_"
                    "FLAG_TSYNC'],"
                    "'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_ERRNO','errnoRet':9}]}");
        assert_int_equal(seccomp_prog_flags(p), SECCOMP_FILTER_FLAG_LOG);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 9);
        seccomp_prog_free(p);
        /* WAIT_KILLABLE_RECV only means something with a listener. */
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}");
        assert_int_equal(seccomp_prog_flags(p), 0);
        seccomp_prog_free(p);
        p = prepare("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/"
                    "x','flags':['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',"
                    "'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                    "NOTIFY'}]}");
        assert_int_equal(seccomp_prog_flags(p), SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
                                                    SECCOMP_FILTER_FLAG_SPEC_ALLOW |
                                                    SECCOMP_FILTER_FLAG_NEW_LISTENER);
        seccomp_prog_free(p);
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_FLAG_X']}",
            "linux.seccomp.flags[1]: unknown flag `SECCOMP_FILTER_FLAG_X`");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','flags':'SECCOMP_FILTER_FLAG_LOG'}",
                     "linux.seccomp.flags: expected an array");
}

static void test_bad_input(void **state)
{
        expect_error("[]", "linux.seccomp: expected an object");
        expect_error("{'syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ALLOW'}]}",
                     "linux.seccomp.defaultAction: required field is missing");
        expect_error("{'defaultAction':'SCMP_ACT_DENY'}",
                     "linux.seccomp.defaultAction: unknown action `SCMP_ACT_DENY`");
        expect_error("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':-1}",
                     "linux.seccomp.defaultErrnoRet");
        expect_error("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':65536}",
                     "linux.seccomp.defaultErrnoRet");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':{}}",
                     "linux.seccomp.syscalls: expected an array");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[7]}",
                     "linux.seccomp.syscalls[0]: expected an object");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'action':'SCMP_ACT_KILL'}]}",
                     "linux.seccomp.syscalls[0].names: required field is missing");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':'getpid','action':'SCMP_ACT_KILL'}]}",
            "linux.seccomp.syscalls[0].names: expected an array");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid',3],'action':'SCMP_ACT_KILL'}]}",
            "linux.seccomp.syscalls[0].names[1]: expected a string");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':[''],'action':'SCMP_ACT_KILL'}]}",
            "linux.seccomp.syscalls[0].names[0]: empty syscall name");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid']}]}",
                     "linux.seccomp.syscalls[0].action: required field is missing");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO'},"
            "{'names':['getpid'],'action':'KILL'}]}",
            "linux.seccomp.syscalls[1].action: unknown action `KILL`");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'errnoRet':'EPERM'}]}",
            "linux.seccomp.syscalls[0].errnoRet: expected an integer");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{},{},{},{'names':['getpid'],'action':'"
                     "SCMP_ACT_ERRNO',"
                     "'args':[{'index':0,'value':1,'op':'X'}]}]}",
                     "linux.seccomp.syscalls[0].names: required field is missing");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['a'],'action':'SCMP_ACT_LOG'},{"
                     "'names':['b'],"
                     "'action':'SCMP_ACT_LOG'},{'names':['c'],'action':'SCMP_ACT_LOG'},{'names':['getpid'],"
                     "'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':'X'}]}]}",
                     "linux.seccomp.syscalls[3].args[0].op: unknown operator `X`");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]}",
            "linux.seccomp.syscalls[0].args[0].index: 6 is out of range [0, 5]");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'value':1,'op':'SCMP_CMP_EQ'}]}]}",
            "linux.seccomp.syscalls[0].args[0].index: required field is missing");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'index':0,'op':'SCMP_CMP_EQ'}]}]}",
            "linux.seccomp.syscalls[0].args[0].value: required field is missing");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'index':0,'value':-1,'op':'SCMP_CMP_EQ'}]}]}",
            "linux.seccomp.syscalls[0].args[0].value: value -1 must not be negative");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'index':0,'value':1,'valueTwo':'x','op':'SCMP_CMP_EQ'}]}]}",
            "linux.seccomp.syscalls[0].args[0].valueTwo: expected an integer");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[{'index':0,'value':1}]}]}",
            "linux.seccomp.syscalls[0].args[0].op: required field is missing");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],'action':'SCMP_ACT_ERRNO',"
            "'args':[1]}]}",
            "linux.seccomp.syscalls[0].args[0]: expected an object");
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':5}",
                     "linux.seccomp.listenerPath: expected a string");
}

static void test_notify_rules(void **state)
{
        expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_"
                     "NOTIFY'}]}",
                     "linux.seccomp.listenerPath: required when a rule uses SCMP_ACT_NOTIFY");
        expect_error("{'defaultAction':'SCMP_ACT_NOTIFY','listenerPath':'/x'}",
                     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        expect_error(
            "{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x','syscalls':[{'names':['mkdir','write'],"
            "'action':'SCMP_ACT_NOTIFY'}]}",
            "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for `write`");
}

static void test_limits(void **state)
{
        json_object *o = J("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[]}"), *l;
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p = NULL;

        json_object_object_get_ex(o, "syscalls", &l);
        for (int i = 0; i < 5000; i++)
                json_object_array_add(l, J("{'names':['getpid'],'action':'SCMP_ACT_LOG'}"));
        assert_true(seccomp_prepare(o, &p, &err) < 0);
        assert_non_null(strstr(err->msg, "more than the limit"));
        json_object_put(o);
}

/* The agent side of SCMP_ACT_NOTIFY: receives the state and the fd, then
 * answers the notified getppid with 4242. */
struct agent {
        char dir[64], path[96];
        int listen_fd;
};

static int child_notify(void *arg)
{
        /* The runtime sends the fd from its own process; here the child does. */
        return syscall(SYS_getppid) == 4242 ? 0 : 100;
}

static void test_notify_listener(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct agent a = {.dir = "/tmp/berth-seccomp-test.XXXXXX"};
        char text[512], buf[4096];
        int status, sk, notify = -1;
        size_t n_fds = 0;
        struct seccomp_prog *p;
        json_object *msg, *v, *st;
        ssize_t n;
        pid_t pid;

        assert_non_null(mkdtemp(a.dir));
        snprintf(a.path, sizeof(a.path), "%s/agent.sock", a.dir);
        {
                _cleanup_close_ int dirfd = open(a.dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                a.listen_fd = unix_listen_at(dirfd, "agent.sock", SOCK_STREAM, 1);
        }
        assert_true(a.listen_fd >= 0);
        snprintf(text, sizeof(text),
                 "{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'%s','listenerMetadata':'meta data',"
                 "'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_NOTIFY'}]}",
                 a.path);
        p = prepare(text);
        assert_true(seccomp_has_listener(p));

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct berr *e = NULL;
                json_object *state_obj = J("{'ociVersion':'1.2.0','id':'c1','status':'creating','pid':1234,"
                                           "'bundle':'/b'}");
                int fd;

                child_reset_signals();
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, &fd, &e) < 0 || fd < 0)
                        child_exit(120);
                if (seccomp_send_to_listener(p, fd, state_obj, &e) < 0) {
                        fprintf(stderr, "send: %s\n", e->msg);
                        child_exit(121);
                }
                close(fd);
                child_exit(child_notify(NULL));
        }
        sk = accept4(a.listen_fd, NULL, NULL, SOCK_CLOEXEC);
        assert_true(sk >= 0);
        n_fds = 1;
        n = socket_recv_fds(sk, &notify, &n_fds, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_int_equal(n_fds, 1);
        buf[n] = '\0';
        msg = J(buf);
        assert_true(json_object_object_get_ex(msg, "ociVersion", &v));
        assert_string_equal(json_object_get_string(v), "1.2.0");
        assert_true(json_object_object_get_ex(msg, "fds", &v));
        assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "seccompFd");
        assert_true(json_object_object_get_ex(msg, "pid", &v));
        assert_int_equal(json_object_get_int(v), 1234);
        assert_true(json_object_object_get_ex(msg, "metadata", &v));
        assert_string_equal(json_object_get_string(v), "meta data");
        assert_true(json_object_object_get_ex(msg, "state", &st));
        assert_true(json_object_object_get_ex(st, "id", &v));
        assert_string_equal(json_object_get_string(v), "c1");
        json_object_put(msg);
        assert_true(fcntl(notify, F_GETFD) & FD_CLOEXEC);

        {
                struct seccomp_notif req;
                struct seccomp_notif_resp resp;

                memset(&req, 0, sizeof(req));
                assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
                assert_int_equal(req.data.nr, SYS_getppid);
                assert_int_equal(req.pid, pid);
                resp = (struct seccomp_notif_resp){.id = req.id, .val = 4242};
                assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(exit_code(status), 0);

        close(notify);
        close(sk);
        close(a.listen_fd);
        unlink(a.path);
        rmdir(a.dir);
        seccomp_prog_free(p);
}

/* What the runtime does: the container process reports the notify fd's
 * number with write(2), the runtime copies the fd with pidfd_getfd. */
static void test_notify_forwarded(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        char dir[] = "/tmp/berth-seccomp-test.XXXXXX", path[64], text[512], buf[4096];
        _cleanup_close_ int dirfd = -1, listen_fd = -1, sk = -1, notify = -1, pidfd = -1;
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        json_object *st = J("{'ociVersion':'1.2.0','id':'c2','status':'running','pid':1,'bundle':'/b'}"),
                    *msg, *v;
        struct seccomp_prog *p;
        int pipefd[2], remote = -1, status;
        size_t n_fds = 1;
        ssize_t n;
        pid_t pid;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/agent.sock", dir);
        dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        listen_fd = unix_listen_at(dirfd, "agent.sock", SOCK_STREAM, 1);
        assert_true(listen_fd >= 0);
        snprintf(text, sizeof(text),
                 "{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'%s','syscalls':[{'names':['getppid'],"
                 "'action':'SCMP_ACT_NOTIFY'}]}",
                 path);
        p = prepare(text);
        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct berr *e = NULL;
                int fd;

                child_reset_signals();
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(p, &fd, &e) < 0 ||
                    write(pipefd[1], &fd, sizeof(fd)) != sizeof(fd))
                        child_exit(120);
                child_exit(child_notify(NULL));
        }
        close(pipefd[1]);
        assert_int_equal(read(pipefd[0], &remote, sizeof(remote)), sizeof(remote));
        close(pipefd[0]);
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        assert_true(pidfd >= 0);
        if (seccomp_forward_to_listener(p, pidfd, remote, pid, st, &err) < 0)
                fail_msg("%s", err->msg);

        sk = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        n = socket_recv_fds(sk, &notify, &n_fds, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        assert_int_equal(n_fds, 1);
        buf[n] = '\0';
        msg = J(buf);
        /* The process's own pid; the state's is the init's. */
        assert_true(json_object_object_get_ex(msg, "pid", &v));
        assert_int_equal(json_object_get_int(v), pid);
        assert_false(json_object_object_get_ex(msg, "metadata", NULL));
        assert_int_equal(
            json_object_get_int(json_object_object_get(json_object_object_get(msg, "state"), "pid")), 1);
        json_object_put(msg);

        memset(&req, 0, sizeof(req));
        assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_RECV, &req), 0);
        assert_int_equal(req.pid, pid);
        resp = (struct seccomp_notif_resp){.id = req.id, .val = 4242};
        assert_int_equal(ioctl(notify, SECCOMP_IOCTL_NOTIF_SEND, &resp), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_int_equal(exit_code(status), 0);

        /* A number that is no fd of the process. */
        assert_true(seccomp_forward_to_listener(p, pidfd, 999, pid, st, &err) < 0);
        assert_non_null(strstr(err->msg, "take the seccomp notify fd 999"));

        json_object_put(st);
        seccomp_prog_free(p);
        unlink(path);
        rmdir(dir);
}

static void test_listener_unreachable(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p =
            prepare("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/nonexistent/agent.sock',"
                    "'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_NOTIFY'}]}");
        json_object *st = J("{'pid':1}");
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

        assert_true(seccomp_send_to_listener(p, fd, st, &err) < 0);
        assert_non_null(strstr(err->msg, "linux.seccomp.listenerPath"));
        assert_non_null(strstr(err->msg, "/nonexistent/agent.sock"));
        close(fd);
        json_object_put(st);
        seccomp_prog_free(p);
}

static bool array_has(json_object *arr, const char *s)
{
        for (size_t i = 0; i < json_object_array_length(arr); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(arr, i)), s))
                        return true;
        return false;
}

static void test_features(void **state)
{
        json_object *f = seccomp_features(), *v;
        static const char *const acts[] = {"SCMP_ACT_ALLOW",        "SCMP_ACT_ERRNO",       "SCMP_ACT_KILL",
                                           "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
                                           "SCMP_ACT_NOTIFY",       "SCMP_ACT_TRACE",       "SCMP_ACT_TRAP"};

        assert_true(json_object_object_get_ex(f, "enabled", &v) && json_object_get_boolean(v));
        assert_true(json_object_object_get_ex(f, "actions", &v));
        for (size_t i = 0; i < ARRAY_SIZE(acts); i++)
                assert_true(array_has(v, acts[i]));
        assert_true(json_object_object_get_ex(f, "operators", &v));
        assert_int_equal(json_object_array_length(v), 7);
        assert_true(array_has(v, "SCMP_CMP_MASKED_EQ"));
        assert_true(json_object_object_get_ex(f, "archs", &v));
        assert_true(array_has(v, "SCMP_ARCH_X86_64") && array_has(v, "SCMP_ARCH_AARCH64"));
        assert_true(json_object_object_get_ex(f, "knownFlags", &v));
        assert_int_equal(json_object_array_length(v), 4);
        assert_true(json_object_object_get_ex(f, "supportedFlags", &v));
        assert_true(array_has(v, "SECCOMP_FILTER_FLAG_LOG") &&
                    array_has(v, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
        json_object_put(f);
}

/* The default profile ------------------------------------------------------ */

static uint64_t caps_of(const char *const *names)
{
        uint64_t caps = 0;

        for (; *names; names++)
                caps |= UINT64_C(1) << oci_cap_from_name(*names);
        return caps;
}

/* docker's default capability set */
static const char *const docker_caps[] = {"CAP_CHOWN",
                                          "CAP_DAC_OVERRIDE",
                                          "CAP_FSETID",
                                          "CAP_FOWNER",
                                          "CAP_MKNOD",
                                          "CAP_NET_RAW",
                                          "CAP_SETGID",
                                          "CAP_SETUID",
                                          "CAP_SETFCAP",
                                          "CAP_SETPCAP",
                                          "CAP_NET_BIND_SERVICE",
                                          "CAP_SYS_CHROOT",
                                          "CAP_KILL",
                                          "CAP_AUDIT_WRITE",
                                          NULL};

static json_object *default_for(const char *arch, uint64_t caps, unsigned int major, unsigned int minor)
{
        _cleanup_berr_ struct berr *err = NULL;
        json_object *prof = NULL, *out = NULL;
        struct seccomp_target t = {.arch = arch, .caps = caps, .kernel_major = major, .kernel_minor = minor};

        if (seccomp_profile_load(DEFAULT_PROFILE_SRC, &prof, &err) < 0)
                fail_msg("%s", err->msg);
        if (seccomp_profile_resolve(prof, &t, &out, &err) < 0)
                fail_msg("%s", err->msg);
        json_object_put(prof);
        return out;
}

/* Finds the rule naming syscall `name` whose action is `action`. */
static json_object *find_rule(json_object *profile, const char *name, const char *action, size_t nth)
{
        json_object *l, *names, *act;

        json_object_object_get_ex(profile, "syscalls", &l);
        for (size_t i = 0; i < json_object_array_length(l); i++) {
                json_object *r = json_object_array_get_idx(l, i);
                json_object_object_get_ex(r, "names", &names);
                json_object_object_get_ex(r, "action", &act);
                if (array_has(names, name) && streq(json_object_get_string(act), action) && nth-- == 0)
                        return r;
        }
        return NULL;
}

static void test_default_profile_resolve(void **state)
{
        json_object *d = default_for("SCMP_ARCH_X86_64", caps_of(docker_caps), 6, 1), *v, *r;

        assert_true(json_object_object_get_ex(d, "architectures", &v));
        assert_string_equal(json_to_string(v, false),
                            "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]");
        assert_false(json_object_object_get_ex(d, "archMap", NULL));
        assert_true(json_object_object_get_ex(d, "defaultErrnoRet", &v) && json_object_get_int(v) == 1);
        assert_non_null(find_rule(d, "read", "SCMP_ACT_ALLOW", 0));
        assert_non_null(find_rule(d, "arch_prctl", "SCMP_ACT_ALLOW", 0));
        assert_non_null(find_rule(d, "chroot", "SCMP_ACT_ALLOW", 0)); /* CAP_SYS_CHROOT */
        assert_non_null(find_rule(d, "ptrace", "SCMP_ACT_ALLOW", 0)); /* kernel >= 4.8 */
        assert_null(find_rule(d, "mount", "SCMP_ACT_ALLOW", 0));      /* needs CAP_SYS_ADMIN */
        assert_null(find_rule(d, "riscv_flush_icache", "SCMP_ACT_ALLOW", 0));
        assert_null(find_rule(d, "reboot", "SCMP_ACT_ALLOW", 0));
        r = find_rule(d, "clone", "SCMP_ACT_ALLOW", 0);
        assert_non_null(r);
        assert_true(json_object_object_get_ex(r, "args", &v));
        assert_string_equal(json_to_string(v, false),
                            "[{\"index\":0,\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}]");
        assert_null(find_rule(d, "clone", "SCMP_ACT_ALLOW", 1));
        assert_false(json_object_object_get_ex(r, "comment", NULL));
        assert_false(json_object_object_get_ex(r, "excludes", NULL));
        r = find_rule(d, "clone3", "SCMP_ACT_ERRNO", 0);
        assert_non_null(r);
        assert_true(json_object_object_get_ex(r, "errnoRet", &v) && json_object_get_int(v) == ENOSYS);
        json_object_put(d);

        /* With CAP_SYS_ADMIN: mount and clone3, clone unrestricted. */
        d = default_for("SCMP_ARCH_X86_64", caps_of(docker_caps) | (UINT64_C(1) << 21), 6, 1);
        assert_non_null(find_rule(d, "mount", "SCMP_ACT_ALLOW", 0));
        assert_non_null(find_rule(d, "clone3", "SCMP_ACT_ALLOW", 0));
        assert_null(find_rule(d, "clone3", "SCMP_ACT_ERRNO", 0));
        r = find_rule(d, "clone", "SCMP_ACT_ALLOW", 0);
        assert_false(json_object_object_get_ex(r, "args", NULL));
        json_object_put(d);

        /* Older kernels: ptrace only with CAP_SYS_PTRACE. */
        d = default_for("SCMP_ARCH_X86_64", 0, 4, 7);
        assert_null(find_rule(d, "ptrace", "SCMP_ACT_ALLOW", 0));
        assert_null(find_rule(d, "chroot", "SCMP_ACT_ALLOW", 0));
        json_object_put(d);

        /* s390x: clone's flags are its second argument. */
        d = default_for("SCMP_ARCH_S390X", 0, 6, 1);
        r = find_rule(d, "clone", "SCMP_ACT_ALLOW", 0);
        assert_true(json_object_object_get_ex(r, "args", &v));
        assert_int_equal(
            json_object_get_int(json_object_object_get(json_object_array_get_idx(v, 0), "index")), 1);
        assert_null(find_rule(d, "clone", "SCMP_ACT_ALLOW", 1));
        assert_non_null(find_rule(d, "s390_runtime_instr", "SCMP_ACT_ALLOW", 0));
        assert_null(find_rule(d, "arch_prctl", "SCMP_ACT_ALLOW", 0));
        assert_true(json_object_object_get_ex(d, "architectures", &v));
        assert_string_equal(json_to_string(v, false), "[\"SCMP_ARCH_S390X\",\"SCMP_ARCH_S390\"]");
        json_object_put(d);

        /* docker's architecture names; NULL is the architecture berth runs on. */
        d = default_for("arm64", 0, 6, 1);
        assert_non_null(find_rule(d, "set_tls", "SCMP_ACT_ALLOW", 0));
        json_object_put(d);
        d = default_for(NULL, 0, 0, 0);
        assert_true(json_object_object_get_ex(d, "architectures", &v));
        assert_true(json_object_array_length(v) >= 1);
        json_object_put(d);
}

static void expect_resolve_error(const char *text, const char *fragment)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_target t = {.arch = "SCMP_ARCH_X86_64", .kernel_major = 6, .kernel_minor = 1};
        json_object *o = J(text), *out = NULL;

        if (seccomp_profile_resolve(o, &t, &out, &err) >= 0)
                fail_msg("resolving %s succeeded, expected `%s`", text, fragment);
        assert_null(out);
        if (!strstr(err->msg, fragment))
                fail_msg("error `%s` does not mention `%s`", err->msg, fragment);
        json_object_put(o);
}

static void test_profile_resolve_rules(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_target t = {
            .arch = "SCMP_ARCH_X86_64", .caps = 1, .kernel_major = 5, .kernel_minor = 10};
        json_object *o = J(
            "{'defaultAction':'SCMP_ACT_ERRNO','listenerPath':'/l','syscalls':["
            "{'name':'a','action':'SCMP_ACT_ALLOW','comment':'old style'},"
            "{'names':['b'],'action':'SCMP_ACT_ALLOW','includes':{'arches':['amd64'],'caps':['CAP_CHOWN']}},"
            "{'names':['c'],'action':'SCMP_ACT_ALLOW','includes':{'arches':['amd64'],'caps':['CAP_KILL']}},"
            "{'names':['d'],'action':'SCMP_ACT_ALLOW','excludes':{'minKernel':'5.10'}},"
            "{'names':['e'],'action':'SCMP_ACT_ALLOW','excludes':{'minKernel':'5.11','caps':['CAP_FOWNER']}},"
            "{'names':['f'],'action':'SCMP_ACT_ALLOW','includes':{'caps':['CAP_NO_SUCH_THING']}}]}");
        json_object *out = NULL, *l;

        assert_int_equal(seccomp_profile_resolve(o, &t, &out, &err), 0);
        assert_true(json_object_object_get_ex(out, "syscalls", &l));
        assert_string_equal(json_to_string(l, false), "[{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"a\"]},"
                                                      "{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                                                      "{\"names\":[\"e\"],\"action\":\"SCMP_ACT_ALLOW\"}]");
        assert_true(json_object_object_get_ex(out, "listenerPath", NULL));
        assert_false(json_object_object_get_ex(out, "architectures", NULL));
        json_object_put(out);
        json_object_put(o);

        expect_resolve_error("{'syscalls':[{'names':['a'],'includes':{'minKernel':'4'}}]}",
                             "seccomp.syscalls[0].includes.minKernel: invalid kernel version `4`");
        expect_resolve_error("{'syscalls':[{'names':['a'],'excludes':{'arches':['vax']}}]}",
                             "seccomp.syscalls[0].excludes.arches[0]: unknown architecture `vax`");
        expect_resolve_error("{'syscalls':[{'name':'a','names':['a']}]}",
                             "seccomp.syscalls[0]: both `name` and `names`");
        expect_resolve_error("{'architectures':['SCMP_ARCH_X86'],'archMap':[]}",
                             "both `architectures` and `archMap`");
        expect_resolve_error("{'archMap':[{'architecture':'pdp11'}]}",
                             "seccomp.archMap[0].architecture: unknown");
        expect_resolve_error("{'syscalls':[{'names':['a'],'includes':[]}]}",
                             "seccomp.syscalls[0].includes: expected an object");
}

static int child_default_profile(void *arg)
{
        int fds[2];
        pid_t pid;
        int st;

        if (syscall(SYS_getpid) < 0)
                return 10;
        if (mount("none", "/nonexistent-berth-test", "tmpfs", 0, NULL) == 0 || errno != EPERM)
                return 11;
        if (syscall(SYS_clone3, NULL, 0) == 0 || errno != ENOSYS)
                return 12;
        if (syscall(SYS_unshare, CLONE_NEWNS) == 0 || errno != EPERM)
                return 13;
        if (syscall(SYS_personality, 0xffffffff) < 0)
                return 14;
        if (socket(AF_VSOCK, SOCK_STREAM, 0) >= 0 || errno != EPERM)
                return 15;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
                return 16;
        /* A number no kernel has yet: ENOSYS from the stub, not EPERM. */
        if (syscall(1000) == 0 || errno != ENOSYS)
                return 17;
        pid = fork();
        if (pid < 0)
                return 18;
        if (pid == 0)
                child_exit(7);
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
                return 19;
        return 0;
}

static void test_default_profile_enforced(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        json_object *d = default_for(NULL, caps_of(docker_caps), 0, 0);
        struct seccomp_prog *p = NULL;

        if (seccomp_prepare(d, &p, &err) < 0)
                fail_msg("%s", err->msg);
        assert_true(seccomp_prog_length(p) > 100);
        assert_int_equal(exit_code(run_filtered(p, child_default_profile, NULL)), 0);
        seccomp_prog_free(p);
        json_object_put(d);
}

static size_t count_files(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        return n;
}

static char *only_file(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        struct dirent *de;
        char *path = NULL;

        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        assert_true(asprintf(&path, "%s/%s", dir, de->d_name) > 0);
        assert_non_null(path);
        return path;
}

static struct seccomp_prog *prepare_cached(const char *text, int dirfd)
{
        _cleanup_berr_ struct berr *err = NULL;
        struct seccomp_prog *p = NULL;
        json_object *o = J(text);

        if (seccomp_prepare_cached(o, dirfd, &p, &err) < 0)
                fail_msg("seccomp_prepare_cached(%s): %s", text, err->msg);
        json_object_put(o);
        return p;
}

static void test_cache(void **state)
{
        const char *deny =
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_ERRNO',"
            "'errnoRet':33}]}";
        const struct sock_filter allow_all = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        char dir[] = "/tmp/berth-seccomp-cache.XXXXXX";
        _cleanup_free_ char *entry = NULL, *buf = NULL;
        struct seccomp_prog *p;
        uint32_t key_len, one = 1;
        size_t len = 0;
        int dirfd, fd;

        assert_non_null(mkdtemp(dir));
        dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dirfd >= 0);

        /* A miss compiles and stores one entry; the program is the same. */
        p = prepare_cached(deny, dirfd);
        assert_int_equal(count_files(dir), 1);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 33);
        seccomp_prog_free(p);

        /* A hit takes the program from the entry: swap in allow-all to see it. */
        entry = only_file(dir);
        assert_int_equal(read_file_at(AT_FDCWD, entry, 1 << 20, &buf, &len, NULL), 0);
        memcpy(&key_len, buf + 8, sizeof(key_len));
        memcpy(buf + 12, &one, sizeof(one));
        memcpy(buf + 16 + key_len, &allow_all, sizeof(allow_all));
        assert_int_equal(
            write_file_at(AT_FDCWD, entry, buf, 16 + key_len + sizeof(allow_all), O_TRUNC, 0600, NULL), 0);
        p = prepare_cached(deny, dirfd);
        assert_int_equal(seccomp_prog_length(p), 1);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 0);
        seccomp_prog_free(p);

        /* A damaged entry or one for another key is a miss and is replaced. */
        buf[20] ^= 1;
        assert_int_equal(
            write_file_at(AT_FDCWD, entry, buf, 16 + key_len + sizeof(allow_all), O_TRUNC, 0600, NULL), 0);
        p = prepare_cached(deny, dirfd);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 33);
        assert_true(seccomp_prog_length(p) > 1);
        seccomp_prog_free(p);
        assert_int_equal(write_file_at(AT_FDCWD, entry, "garbage", 7, O_TRUNC, 0600, NULL), 0);
        p = prepare_cached(deny, dirfd);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 33);
        seccomp_prog_free(p);
        assert_int_equal(count_files(dir), 1);

        /* Another profile, another entry; bad profiles store nothing. */
        p = prepare_cached(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_KILL'}]}",
            dirfd);
        seccomp_prog_free(p);
        assert_int_equal(count_files(dir), 2);
        {
                _cleanup_berr_ struct berr *err = NULL;
                json_object *o = J("{'defaultAction':'SCMP_ACT_BAD'}");
                assert_true(seccomp_prepare_cached(o, dirfd, &p, &err) < 0);
                json_object_put(o);
        }
        assert_int_equal(count_files(dir), 2);

        /* The cache keeps its newest 64 entries. */
        for (int i = 0; i < 80; i++) {
                char name[32];
                struct timespec ts[2] = {{.tv_sec = 1000 + i}, {.tv_sec = 1000 + i}};

                snprintf(name, sizeof(name), "old%02d", i);
                fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                close(fd);
                assert_int_equal(utimensat(dirfd, name, ts, 0), 0);
        }
        p = prepare_cached(
            "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],'action':'SCMP_ACT_LOG'}]}",
            dirfd);
        seccomp_prog_free(p);
        assert_int_equal(count_files(dir), 64);
        assert_int_equal(faccessat(dirfd, "old79", F_OK, 0), 0);
        assert_true(faccessat(dirfd, "old00", F_OK, 0) < 0);
        p = prepare_cached(deny, dirfd);
        assert_int_equal(exit_code(run_filtered(p, child_getppid, NULL)), 33);
        seccomp_prog_free(p);

        close(dirfd);
        assert_int_equal(rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_errno_action),
            cmocka_unit_test(test_default_errno_ret),
            cmocka_unit_test(test_kill_actions),
            cmocka_unit_test(test_trap_action),
            cmocka_unit_test(test_log_and_allow_actions),
            cmocka_unit_test(test_trace_action),
            cmocka_unit_test(test_operators),
            cmocka_unit_test(test_argument_combinations),
            cmocka_unit_test(test_architectures),
            cmocka_unit_test(test_enosys_stub),
            cmocka_unit_test(test_rules_like_default_are_skipped),
            cmocka_unit_test(test_unknown_syscalls_are_skipped),
            cmocka_unit_test(test_disabled),
            cmocka_unit_test(test_flags),
            cmocka_unit_test(test_bad_input),
            cmocka_unit_test(test_notify_rules),
            cmocka_unit_test(test_limits),
            cmocka_unit_test(test_notify_listener),
            cmocka_unit_test(test_notify_forwarded),
            cmocka_unit_test(test_listener_unreachable),
            cmocka_unit_test(test_features),
            cmocka_unit_test(test_default_profile_resolve),
            cmocka_unit_test(test_profile_resolve_rules),
            cmocka_unit_test(test_default_profile_enforced),
            cmocka_unit_test(test_cache),
        };
        return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
