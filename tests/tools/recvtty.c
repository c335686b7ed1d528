/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper: a --console-socket receiver (like runc's recvtty).
 *   berth-test-recvtty SOCKET [INPUT]
 * Listens on SOCKET, receives one pty master over SCM_RIGHTS, writes INPUT to
 * it, and copies what the container writes to stdout until the pty closes.
 * Prints "recvtty: ready" on stderr once listening.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "basic/socket.h"

int main(int argc, char **argv)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int lfd, conn, master = -1;
        size_t n = 1;
        char buf[4096];

        if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: %s SOCKET [INPUT]\n", argv[0]);
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0) {
                perror("recvtty: listen");
                return 1;
        }
        fprintf(stderr, "recvtty: ready\n");
        conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0 || socket_recv_fds(conn, &master, &n, buf, sizeof(buf)) <= 0 || n != 1) {
                fprintf(stderr, "recvtty: no pty received\n");
                return 1;
        }
        if (argc > 2) {
                if (write(master, argv[2], strlen(argv[2])) < 0 || write(master, "\n", 1) < 0)
                        perror("recvtty: write");
        }
        for (;;) {
                ssize_t r = read(master, buf, sizeof(buf));
                if (r <= 0)
                        break;
                if (write(STDOUT_FILENO, buf, (size_t)r) < 0)
                        break;
        }
        return 0;
}
