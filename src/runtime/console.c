/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "internal.h"

/* /dev/console becomes a bind mount of the pty slave. The file we bind onto is
 * one we just created on the container's /dev, never what a rootfs put there
 * (CVE-2025-52565). */
static int bind_console(int slave, struct berr **err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), dev = -1, target = -1, tree = -1;
        struct stat st;

        if (root < 0)
                return berr_errno(err, "open /");
        dev = openat_in_root(root, "/dev", O_RDONLY | O_DIRECTORY, 0);
        if (dev < 0)
                return berr_make(err, -dev, "open /dev in the container");
        if (unlinkat(dev, "console", 0) < 0 && errno != ENOENT)
                return berr_errno(err, "remove /dev/console");
        target = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (target < 0)
                return berr_errno(err, "create /dev/console");
        if (fstat(target, &st) < 0 || !S_ISREG(st.st_mode))
                return berr_make(err, EINVAL, "/dev/console is not the file just created");
        tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return berr_errno(err, "bind the terminal to /dev/console");
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return berr_errno(err, "bind the terminal to /dev/console");
        return 0;
}

int console_create(const struct oci_process *p, struct berr **err)
{
        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), master = -1, slave = -1;
        struct statfs sfs;
        int unlock = 0;

        if (root < 0)
                return berr_errno(err, "open /");
        master = openat_in_root(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0);
        if (master < 0)
                return berr_make(err, -master, "open /dev/pts/ptmx in the container (is devpts mounted?)");
        if (fstatfs(master, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC)
                return berr_make(err, EINVAL, "/dev/pts/ptmx in the container is not on devpts");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return berr_errno(err, "unlock pty");
        /* TIOCGPTPEER opens the slave without a path lookup. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berr_errno(err, "open pty slave");
        if (p->has_console_size) {
                struct winsize ws = {.ws_row = (unsigned short)p->console_height,
                                     .ws_col = (unsigned short)p->console_width};
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return berr_errno(err, "set console size");
        }
        if (bind_console(slave, err) < 0)
                return -1;
        if (setsid() < 0 && errno != EPERM)
                return berr_errno(err, "setsid");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berr_errno(err, "set controlling terminal");
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return berr_errno(err, "dup pty to fd %d", i);
        return TAKE_FD(master);
}

/* One round of copying for the foreground proxy (called when poll says so). */
void console_copy_step(int master, int events_in, int *stdin_open)
{
        char buf[16384];
        ssize_t n;

        if (events_in & 1) {
                n = read(master, buf, sizeof(buf));
                if (n > 0)
                        (void)write_all(STDOUT_FILENO, buf, (size_t)n);
        }
        if ((events_in & 2) && *stdin_open) {
                n = read(STDIN_FILENO, buf, sizeof(buf));
                if (n > 0)
                        (void)write_all(master, buf, (size_t)n);
                else if (n == 0 || (errno != EINTR && errno != EAGAIN))
                        *stdin_open = 0;
        }
}
