/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/path.h"
#include "container.h"
#include "basic/strv.h"
#include "image/images.h"
#include "info.h"
#include "launch.h"

#define OS_RELEASE_MAX (64 * 1024)

static const char *fs_name(long type)
{
        static const struct {
                long magic;
                const char *name;
        } names[] = {
            {0xEF53, "extfs"},         {0x58465342, "xfs"}, {0x9123683E, "btrfs"}, {0x01021994, "tmpfs"},
            {0x794c7630, "overlayfs"}, {0x2FC12FC1, "zfs"}, {0xF2F52010, "f2fs"},  {0x6969, "nfs"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (names[i].magic == type)
                        return names[i].name;
        return "unknown";
}

/* "1", "2"; hybrid hosts (v1 controllers with a cgroup2 mount beside) are "1". */
static const char *cgroup_version(void)
{
        struct statfs sf;

        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == 0x63677270 ? "2" : "1";
}

static char *os_release(const char *key)
{
        _cleanup_free_ char *buf = NULL;
        size_t len, klen = strlen(key);

        if (read_file_at(AT_FDCWD, "/etc/os-release", OS_RELEASE_MAX, &buf, &len, NULL) < 0 &&
            read_file_at(AT_FDCWD, "/usr/lib/os-release", OS_RELEASE_MAX, &buf, &len, NULL) < 0)
                return NULL;
        for (char *l = buf, *next; l && *l; l = next) {
                next = strchr(l, '\n');
                if (next)
                        *next++ = '\0';
                if (strneq(l, key, klen) && l[klen] == '=') {
                        char *v = l + klen + 1;
                        size_t n = strlen(v);
                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
                                return strndup(v + 1, n - 2);
                        return strdup(v);
                }
        }
        return NULL;
}

static void add_str(json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
        json_object_object_add(o, k, json_object_new_int64(v));
}

int engine_info(struct engine *e, json_object **out, struct berr **err)
{
        json_object *o = json_object_new_object(), *rts = json_object_new_object(),
                    *ds = json_object_new_array();
        json_object *sec = json_object_new_array(), *pair;
        struct container **v = NULL;
        struct image_record **imgs = NULL;
        size_t n = 0, n_imgs = 0, running = 0, paused = 0, stopped = 0;
        struct utsname u;
        struct sysinfo si;
        struct statfs sf;
        char host[256] = "";
        _cleanup_free_ char *os = os_release("PRETTY_NAME"), *ver = os_release("VERSION_ID");

        if (!o || !rts || !ds || !sec) {
                json_object_put(o);
                json_object_put(rts);
                json_object_put(ds);
                json_object_put(sec);
                return berr_make(err, ENOMEM, "info");
        }
        if (container_list(e->db, &v, &n, err) < 0 || images_list(e->store, &imgs, &n_imgs, err) < 0) {
                container_freev(v, n);
                json_object_put(o);
                json_object_put(rts);
                json_object_put(ds);
                json_object_put(sec);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                struct container_state st;
                _cleanup_berr_ struct berr *e2 = NULL;
                if (container_state_derive(e, v[i], &st, &e2) < 0) {
                        stopped++;
                        continue;
                }
                if (st.status == CONTAINER_RUNNING || st.status == CONTAINER_RESTARTING)
                        running++;
                else if (st.status == CONTAINER_PAUSED)
                        paused++;
                else
                        stopped++;
                container_state_done(&st);
        }
        container_freev(v, n);
        image_records_free(imgs, n_imgs);
        uname(&u);
        gethostname(host, sizeof(host) - 1);
        add_int(o, "Containers", (int64_t)n);
        add_int(o, "ContainersRunning", (int64_t)running);
        add_int(o, "ContainersPaused", (int64_t)paused);
        add_int(o, "ContainersStopped", (int64_t)stopped);
        add_int(o, "Images", (int64_t)n_imgs);
        add_str(o, "Driver", "overlay");
        pair = json_object_new_array();
        json_object_array_add(pair, json_object_new_string("Backing Filesystem"));
        json_object_array_add(
            pair, json_object_new_string(statfs(e->root, &sf) == 0 ? fs_name((long)sf.f_type) : "unknown"));
        json_object_array_add(ds, pair);
        json_object_object_add(o, "DriverStatus", ds);
        add_str(o, "LoggingDriver", e->cfg.log_driver ? e->cfg.log_driver : "k8s-file");
        add_str(o, "CgroupDriver", "cgroupfs");
        add_str(o, "CgroupVersion", cgroup_version());
        for (size_t i = 0; i < e->cfg.n_runtimes; i++) {
                struct engine_runtime_choice rc = {0};
                _cleanup_berr_ struct berr *e2 = NULL;
                json_object *r = json_object_new_object();
                if (engine_runtime_resolve(e, e->cfg.runtimes[i].name, &rc, &e2) == 0)
                        add_str(r, "path", rc.path);
                else
                        add_str(r, "path", "");
                engine_runtime_choice_done(&rc);
                json_object_object_add(rts, e->cfg.runtimes[i].name, r);
        }
        json_object_object_add(o, "Runtimes", rts);
        add_str(o, "DefaultRuntime",
                e->cfg.default_runtime ? e->cfg.default_runtime : ENGINE_DEFAULT_RUNTIME);
        {
                _cleanup_free_ char *s = NULL;
                if (asprintf(&s, "name=seccomp,profile=%s",
                             e->cfg.seccomp_profile ? e->cfg.seccomp_profile : "builtin") >= 0)
                        json_object_array_add(sec, json_object_new_string(s));
        }
        json_object_object_add(o, "SecurityOptions", sec);
        add_str(o, "KernelVersion", u.release);
        add_str(o, "OperatingSystem", os ? os : "Linux");
        add_str(o, "OSVersion", ver);
        add_str(o, "OSType", "linux");
        add_str(o, "Architecture", u.machine);
        add_int(o, "NCPU", sysconf(_SC_NPROCESSORS_ONLN));
        add_int(o, "MemTotal", sysinfo(&si) == 0 ? (int64_t)si.totalram * si.mem_unit : 0);
        add_str(o, "Name", host);
        add_str(o, "DockerRootDir", e->root);
        add_str(o, "RunRoot", e->runroot);
        add_str(o, "ConfigFile", e->config_path);
        *out = o;
        return 0;
}

void engine_component_done(struct engine_component *c)
{
        free(c->name);
        free(c->path);
        free(c->version);
        *c = (struct engine_component){0};
}

/* The first line `path --version` prints, NULL when it prints nothing or fails. */
static char *version_line(const char *path)
{
        char buf[512];
        size_t len = 0;
        int fds[2], status;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return NULL;
        pid = fork();
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDWR);
                dup2(null_fd, 0);
                dup2(fds[1], 1);
                dup2(null_fd, 2);
                execl(path, path, "--version", (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        while (pid > 0 && len < sizeof(buf) - 1) {
                ssize_t n = read(fds[0], buf + len, sizeof(buf) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fds[0]);
        if (pid < 0)
                return NULL;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        buf[len] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !buf[0])
                return NULL;
        /* "runc version 1.1.5+ds1": the version itself. */
        {
                const char *v = strstr(buf, " version ");
                return strdup(v ? v + 9 : buf);
        }
}

int engine_versions(const char *config, const char *self_exe, const char *runtime,
                    struct engine_component out[2], struct berr **err)
{
        struct engine e = {.self_exe = (char *)self_exe};
        struct engine_runtime_choice rc = {0};
        _cleanup_berr_ struct berr *e2 = NULL;
        char exe[PATH_MAX];

        out[0] = out[1] = (struct engine_component){0};
        if (!e.self_exe) {
                ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
                exe[n > 0 ? n : 0] = '\0';
                e.self_exe = exe;
        }
        if (engine_config_load(config ? config : ENGINE_DEFAULT_CONFIG, config != NULL, &e.cfg, err) < 0)
                return -1;
        out[0].name = strdup(ENGINE_MONITOR_NAME);
        out[0].path = launch_monitor_path(&e);
        if (engine_runtime_resolve(&e, runtime, &rc, &e2) == 0) {
                out[1].name = TAKE_PTR(rc.name);
                out[1].path = TAKE_PTR(rc.path);
        } else {
                out[1].name = strdup(runtime ? runtime : e.cfg.default_runtime);
        }
        engine_runtime_choice_done(&rc);
        engine_config_done(&e.cfg);
        for (size_t i = 0; i < 2; i++) {
                if (!out[i].name) {
                        engine_component_done(&out[0]);
                        engine_component_done(&out[1]);
                        return berr_make(err, ENOMEM, "version");
                }
                if (out[i].path)
                        out[i].version = version_line(out[i].path);
        }
        return 0;
}
