/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/socket.h"

static bool same_file(int a, int b)
{
        struct stat sa, sb;

        assert_int_equal(fstat(a, &sa), 0);
        assert_int_equal(fstat(b, &sb), 0);
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void test_fds_travel_with_data(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int sv[2], send[2], got[4];
        size_t n_got = 0;
        char buf[16];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        send[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        send[1] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(socket_send_fds(sv[0], "hello", 5, send, 2, &err), 0);
        assert_int_equal(socket_recv_fds(sv[1], buf, sizeof(buf), got, 4, &n_got, &err), 5);
        assert_memory_equal(buf, "hello", 5);
        assert_int_equal(n_got, 2);
        assert_true(same_file(got[0], send[0]));
        assert_true(same_file(got[1], send[1]));
        assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
        assert_true(fcntl(got[1], F_GETFD) & FD_CLOEXEC);

        /* Plain data, then end of stream. */
        assert_int_equal(socket_send_fds(sv[0], "x", 1, NULL, 0, &err), 0);
        assert_int_equal(socket_recv_fds(sv[1], buf, sizeof(buf), got + 2, 2, &n_got, &err), 1);
        assert_int_equal(n_got, 0);
        close(sv[0]);
        assert_int_equal(socket_recv_fds(sv[1], buf, sizeof(buf), got + 2, 2, &n_got, &err), 0);

        for (int i = 0; i < 2; i++) {
                close(send[i]);
                close(got[i]);
        }
        close(sv[1]);
}

static void test_surplus_fds_are_refused(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        int sv[2], send[3], got[1] = {-1};
        size_t n_got = 7;
        char buf[4];
        int before, after;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        for (int i = 0; i < 3; i++)
                send[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_int_equal(socket_send_fds(sv[0], "abc", 3, send, 3, &err), 0);
        before = dup(0);
        close(before);
        assert_true(socket_recv_fds(sv[1], buf, sizeof(buf), got, 1, &n_got, &err) < 0);
        assert_non_null(strstr(err->msg, "more than the 1 fds expected"));
        assert_int_equal(n_got, 0);
        /* Nothing received stays open. */
        after = dup(0);
        assert_int_equal(after, before);
        close(after);
        for (int i = 0; i < 3; i++)
                close(send[i]);
        close(sv[0]);
        close(sv[1]);
}

static void test_large_message(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        const size_t len = 1 << 20;
        _cleanup_free_ char *out = malloc(len), *in = malloc(len + 1);
        int sv[2], fd = open("/dev/null", O_RDONLY | O_CLOEXEC), got = -1, status;
        size_t n_got = 0, have;
        ssize_t n;
        pid_t pid;

        for (size_t i = 0; i < len; i++)
                out[i] = (char)('a' + i % 26);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        /* More than the socket buffer: the sender must go on after the fd. */
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(socket_send_fds(sv[0], out, len, &fd, 1, NULL) < 0);
        close(sv[0]);
        n = socket_recv_fds(sv[1], in, len, &got, 1, &n_got, &err);
        assert_true(n > 0);
        assert_int_equal(n_got, 1);
        have = (size_t)n;
        while (have < len) {
                n = read(sv[1], in + have, len - have);
                assert_true(n > 0);
                have += (size_t)n;
        }
        assert_memory_equal(in, out, len);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(got);
        close(fd);
        close(sv[1]);
}

static void test_listen_and_connect(void **state)
{
        _cleanup_berr_ struct berr *err = NULL;
        char dir[] = "/tmp/berth-socket-test.XXXXXX", path[64], buf[8];
        char long_path[200];
        int l, c, a, fd = open("/dev/null", O_RDONLY | O_CLOEXEC), got = -1;
        size_t n_got = 0;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/s", dir);
        l = socket_listen_unix(path, 1, &err);
        assert_true(l >= 0);
        assert_true(fcntl(l, F_GETFD) & FD_CLOEXEC);
        assert_true(socket_listen_unix(path, 1, &err) < 0);
        assert_non_null(strstr(err->msg, path));
        berr_freep(&err);
        c = socket_connect_unix(path, &err);
        assert_true(c >= 0);
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        assert_true(a >= 0);
        assert_int_equal(socket_send_fds(c, "ok", 2, &fd, 1, &err), 0);
        assert_int_equal(socket_recv_fds(a, buf, sizeof(buf), &got, 1, &n_got, &err), 2);
        assert_true(same_file(got, fd));

        memset(long_path, 'x', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = '\0';
        assert_true(socket_connect_unix(long_path, &err) < 0);
        assert_non_null(strstr(err->msg, "longer than"));
        berr_freep(&err);
        assert_true(socket_connect_unix("/nonexistent/s", &err) < 0);
        assert_non_null(strstr(err->msg, "connect to /nonexistent/s"));

        close(got);
        close(fd);
        close(a);
        close(c);
        close(l);
        unlink(path);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_fds_travel_with_data),
            cmocka_unit_test(test_surplus_fds_are_refused),
            cmocka_unit_test(test_large_message),
            cmocka_unit_test(test_listen_and_connect),
        };
        return cmocka_run_group_tests_name("socket", tests, NULL, NULL);
}
