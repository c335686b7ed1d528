/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CVE-2019-5736: a container process that gets hold of the runtime's
 * executable (through /proc/<pid>/exe, or by exec'ing "#!/proc/self/exe")
 * could overwrite the host's binary. Commands that put processes into a
 * container therefore run from a sealed memfd copy of the binary: what
 * /proc/self/exe reaches is that copy, which nobody can write.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

bool runtime_exe_is_sealed(void)
{
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;

        return seals >= 0 && (seals & SEALS) == SEALS;
}

int runtime_reexec_sealed(char **argv, char **envp, struct berr **err)
{
        _cleanup_close_ int self = -1, mfd = -1;
        struct stat st;
        off_t left;

        if (runtime_exe_is_sealed())
                return 0;
        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0 || fstat(self, &st) < 0)
                return berr_errno(err, "open /proc/self/exe");
        /* MFD_EXEC: stay executable where vm.memfd_noexec asks for noexec by default. */
        mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL)
                mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return berr_errno(err, "memfd_create");
        for (left = st.st_size; left > 0;) {
                ssize_t n = sendfile(mfd, self, NULL, (size_t)left);
                if (n <= 0)
                        return berr_errno(err, "copy the runtime binary to a memfd");
                left -= n;
        }
        if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0)
                return berr_errno(err, "seal the runtime binary copy");
        syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
        return berr_errno(err, "re-exec from the sealed copy");
}
