#!/usr/bin/env bats
# berth-runtime: regressions found with the OCI runtime-tools validation
# suite (tests/conformance/run.sh, docs/CONFORMANCE.md). Each test names the
# validation test that showed the bug.

load ../lib/runtime

seccomp_enabled() {
        [ "$(rt features | jq -r .linux.seccomp.enabled)" = true ]
}

# runtime-tools' default profile predates openat2 and close_range and is
# loaded without noNewPrivileges, i.e. before the user switch (validation:
# default, process, mounts and every test that starts a container).
@test "seccomp without noNewPrivileges: a filter denying openat2 and close_range does not break cwd or fd hygiene" {
        seccomp_enabled || skip "seccomp is not supported by this build"
        bundle_set "$B" '.process.noNewPrivileges = false | .process.cwd = "/tmp"
                | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
                        "syscalls": [{"names": ["openat2", "close_range"], "action": "SCMP_ACT_ERRNO"}]}'
        run_in sh -c 'pwd; ls /proc/self/fd | tr "\n" " "'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = /tmp ]
        # 0-2 and the fd ls reads the directory with: nothing of the runtime's.
        [ "${lines[1]}" = "0 1 2 3 " ]
}

# The cwd is entered as root first; one root may not enter is entered as the
# container's user (as runc does).
@test "a cwd only the container's user may enter" {
        chmod 755 "$T"
        chown -R 100000:100000 "$B/rootfs"
        mkdir "$B/rootfs/home"
        # Owner unmapped in the container: root there has no override on it.
        chown 99999:101000 "$B/rootfs/home"
        chmod 070 "$B/rootfs/home"
        bundle_set "$B" '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .process.cwd = "/home"'
        run_in pwd
        [ "$status" -ne 0 ]
        [[ "$output" == *'chdir to cwd ("/home") set in config.json failed: Permission denied'* ]]
        bundle_set "$B" '.process.user = {"uid": 1000, "gid": 1000}'
        run_in pwd
        [ "$status" -eq 0 ]
        [ "$output" = /home ]
}

# The init of a user-namespaced container may not write the root-owned state
# directory, where `create` leaves the socket `start` connects to
# (validation: linux_uid_mappings, linux_ns_nopath).
@test "create and start a container with a user namespace" {
        chmod 755 "$T"
        chown -R 100000:100000 "$B/rootfs"
        bundle_set "$B" '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .root.readonly = false | .process.args = ["sh", "-c", "id -u > /tmp/started"]'
        rt create -b "$B" u1
        [ "$(status_of u1)" = created ]
        pid=$(rt state u1 | jq .pid)
        rt start u1
        # Bounded only so that a hang fails instead of blocking the suite.
        timeout 60 tail --pid="$pid" -f /dev/null
        [ "$(status_of u1)" = stopped ]
        [ "$(cat "$B/rootfs/tmp/started")" = 0 ]
        rt delete u1
        assert_gone u1
}

# Binding the rootfs from a mount just made unbindable failed with EINVAL
# (validation: linux_rootfs_propagation).
@test "rootfsPropagation unbindable and runbindable" {
        for prop in unbindable runbindable; do
                bundle_set "$B" ".linux.rootfsPropagation = \"$prop\""
                run_in awk '$5 == "/"' /proc/self/mountinfo
                [ "$status" -eq 0 ]
                [[ "$output" == *" unbindable "* ]]
        done
}

# mountLabel without SELinux was refused as if it were process.selinuxLabel
# (validation: linux_mount_label).
@test "linux.mountLabel on a host without SELinux is accepted" {
        [ ! -e /sys/fs/selinux/enforce ] || skip "SELinux is enabled on this host"
        bundle_set "$B" '.linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"'
        run_in echo ran
        [ "$status" -eq 0 ]
        [ "$output" = ran ]
}

# Without a mount namespace in the config the container inherits the
# runtime's, as the spec requires (validation: linux_ns_itype). Its mounts are
# then made in that namespace: this test runs in a private one of its own, and
# checks that exec enters the container's root and that delete removes them.
@test "no mount namespace: the runtime's is shared, exec is chrooted, delete removes the mounts" {
        bundle_set "$B" 'del(.linux.maskedPaths, .linux.readonlyPaths)
                | .linux.namespaces |= map(select(.type != "mount"))
                | .process.args = ["sleep", "100"]'
        echo 'container-passwd' >"$B/rootfs/etc/hostpasswd-probe"
        run env RT="$RT" ROOT="$ROOT" B="$B" unshare -m --propagation private -- bash -c '
                set -e
                rt() { "$RT" --root "$ROOT" "$@"; }
                rt create -b "$B" m1
                rt start m1
                pid=$(rt state m1 | jq .pid)
                [ "$(readlink /proc/$pid/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]
                grep -qF " $B/rootfs/proc " /proc/self/mountinfo
                rt exec m1 cat /etc/hostpasswd-probe
                rt delete --force m1
                if grep -F " $B/rootfs" /proc/self/mountinfo; then echo "mounts left behind"; exit 1; fi
                jq ".process.args = [\"true\"]" "$B/config.json" >"$B/config.json.new"
                mv "$B/config.json.new" "$B/config.json"
                rt run -b "$B" m0
                if grep -F " $B/rootfs" /proc/self/mountinfo; then echo "mounts left behind by run"; exit 1; fi
                echo done'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = container-passwd ]
        [ "${lines[1]}" = done ]
}

@test "no mount namespace: maskedPaths, readonlyPaths and rootfsPropagation are refused" {
        bundle_set "$B" '.linux.namespaces |= map(select(.type != "mount"))'
        run rt run -b "$B" m2
        [ "$status" -eq 1 ]
        [[ "$output" == *"linux.maskedPaths: needs a mount namespace"* ]]
        bundle_set "$B" 'del(.linux.maskedPaths) | .linux.rootfsPropagation = "private"'
        run rt run -b "$B" m2
        [[ "$output" == *"linux.readonlyPaths: needs a mount namespace"* ]]
        bundle_set "$B" 'del(.linux.readonlyPaths)'
        run rt run -b "$B" m2
        [[ "$output" == *"linux.rootfsPropagation: needs a mount namespace"* ]]
        assert_gone m2
}
