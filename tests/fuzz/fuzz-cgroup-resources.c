/* SPDX-License-Identifier: Apache-2.0 */
/* linux.resources and the persisted cgroup state: any input parses or fails
 * with an error, never crashes or leaks; what parses also goes through the
 * host checks and the device filter builder. */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>

#include "basic/json.h"
#include "basic/log.h"
#include "runtime/cgroups/cgroup-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char mountinfo[] = "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                                "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                                "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
                                "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct cgroup_resources res;
        struct cgroup_host host;
        struct cgroup *cg = NULL;
        json_object *o = NULL;
        struct berr *err = NULL;

        log_setup(-1, LOG_FORMAT_TEXT, LOG_LEVEL_ERROR);
        if (json_parse_buf((const char *)data, size, "input", &o, &err) < 0) {
                berr_free(err);
                return 0;
        }
        if (cgroup_resources_parse(o, "linux.resources", &res, &err) == 0) {
                struct cgroup_device_rule *rules = NULL;
                struct bpf_insn *prog = NULL;
                size_t n, ni;

                if (cgroup_host_parse_mountinfo(mountinfo, &host, &err) == 0) {
                        (void)cgroup_resources_check(&res, &host, "linux.resources", &err);
                        cgroup_host_done(&host);
                }
                if (cgroup_devices_rules(&res, &rules, &n, &err) == 0 &&
                    cgroup_devices_bpf_build(rules, n, &prog, &ni, &err) == 0)
                        free(prog);
                free(rules);
                cgroup_resources_done(&res);
        }
        berr_free(err);
        err = NULL;
        if (cgroup_from_json_fake(o, true, &cg, &err) == 0) {
                json_object_put(cgroup_to_json(cg));
                cgroup_free(cg);
        }
        berr_free(err);
        json_object_put(o);
        return 0;
}
