/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the cgroup backends land: refuses every resource. */
#include <sys/mount.h>
#include <string.h>

#include "cgroup.h"

struct cgroup {
        int unused;
};

int cgroup_create(const struct cgroup_config *cfg, struct cgroup **out, struct berr **err)
{
        if (cfg->resources && json_object_object_length(cfg->resources) > 0)
                return berr_make(err, ENOTSUP, "linux.resources: cgroup resources are not supported yet");
        if (cfg->systemd)
                return berr_make(err, ENOTSUP, "--systemd-cgroup: no systemd is reachable on this host");
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : berr_make(err, ENOMEM, "cgroup");
}

int cgroup_enter(struct cgroup *cg, pid_t pid, struct berr **err)
{
        return 0;
}

int cgroup_clone_into_fd(struct cgroup *cg)
{
        return -1;
}

json_object *cgroup_to_json(struct cgroup *cg)
{
        return json_object_new_object();
}

int cgroup_from_json(json_object *o, struct cgroup **out, struct berr **err)
{
        *out = calloc(1, sizeof(**out));
        return *out ? 0 : berr_make(err, ENOMEM, "cgroup");
}

int cgroup_update(struct cgroup *cg, json_object *resources, struct berr **err)
{
        return berr_make(err, ENOTSUP, "cgroup updates are not supported yet");
}

int cgroup_get_pids(struct cgroup *cg, pid_t **pids, size_t *n, struct berr **err)
{
        return berr_make(err, ENOTSUP, "cgroup process lists are not supported yet");
}

int cgroup_signal_all(struct cgroup *cg, int sig, struct berr **err)
{
        return berr_make(err, ENOTSUP, "cgroup kill is not supported yet");
}

int cgroup_set_frozen(struct cgroup *cg, bool frozen, struct berr **err)
{
        return berr_make(err, ENOTSUP, "pause/resume are not supported yet");
}

int cgroup_is_frozen(struct cgroup *cg, bool *out, struct berr **err)
{
        *out = false;
        return 0;
}

int cgroup_stats(struct cgroup *cg, json_object **out, struct berr **err)
{
        return berr_make(err, ENOTSUP, "cgroup statistics are not supported yet");
}

int cgroup_destroy(struct cgroup *cg, struct berr **err)
{
        return 0;
}

void cgroup_free(struct cgroup *cg)
{
        free(cg);
}

int cgroup_mount(struct cgroup *cg, int target_fd, unsigned long mount_attrs, bool own_cgroupns,
                 struct berr **err)
{
        int fd = open_tree(AT_FDCWD, "/sys/fs/cgroup", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC);
        struct mount_attr attr = {.attr_set = mount_attrs};

        if (fd < 0)
                return berr_errno(err, "clone /sys/fs/cgroup");
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0 ||
            move_mount(fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                int r = berr_errno(err, "mount cgroup");
                close(fd);
                return r;
        }
        close(fd);
        return 0;
}

json_object *cgroup_features(void)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "v1", json_object_new_boolean(0));
        json_object_object_add(o, "v2", json_object_new_boolean(0));
        json_object_object_add(o, "systemd", json_object_new_boolean(0));
        json_object_object_add(o, "systemdUser", json_object_new_boolean(0));
        return o;
}
