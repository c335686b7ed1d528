#!/usr/bin/env bats
# berth-runtime: what each config.json field does inside the container.

load ../lib/runtime

@test "pid namespace: the process is pid 1" {
        run_in sh -c 'echo $$'
        [ "$output" = 1 ]
}

@test "network namespace: only loopback, and it is up" {
        run_in sh -c 'ls /sys/class/net; cat /sys/class/net/lo/flags'
        [ "${lines[0]}" = lo ]
        # IFF_UP | IFF_LOOPBACK
        [ "${lines[1]}" = 0x9 ]
}

@test "uts namespace: hostname and domainname" {
        bundle_set "$B" '.hostname = "box1" | .domainname = "example.org"'
        run_in sh -c 'hostname; cat /proc/sys/kernel/domainname'
        [ "${lines[0]}" = box1 ]
        [ "${lines[1]}" = example.org ]
}

@test "ipc namespace: a private SysV IPC space" {
        run_in sh -c 'readlink /proc/self/ns/ipc'
        [ "$output" != "$(readlink /proc/self/ns/ipc)" ]
}

@test "user namespace with uid/gid mappings" {
        chmod 755 "$T"
        chown -R 100000:100000 "$B/rootfs"
        bundle_set "$B" '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .root.readonly = false'
        run_in sh -c 'id -u; cat /proc/self/uid_map; touch /tmp/f; ls -ln /tmp/f'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 0 ]
        [[ "${lines[1]}" == *"0"*"100000"*"65536" ]]
        [ "$(stat -c %u "$B/rootfs/tmp/f")" = 100000 ]
}

@test "cgroup namespace: the container's cgroup is the root" {
        bundle_set "$B" '.linux.namespaces += [{"type": "cgroup"}]'
        run_in cat /proc/self/cgroup
        [ "$status" -eq 0 ]
        ! grep -v ':/$' <<<"$output"
}

@test "time namespace with offsets" {
        bundle_set "$B" '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 86400}}'
        run_in cut -d. -f1 /proc/uptime
        [ "$status" -eq 0 ]
        host=$(cut -d. -f1 /proc/uptime)
        [ "$output" -ge $((host + 864000 - 5)) ]
}

@test "joining an existing network namespace by path" {
        touch "$T/netns"
        unshare --net="$T/netns" ip link set lo up
        bundle_set "$B" "(.linux.namespaces[] | select(.type == \"network\")) += {\"path\": \"$T/netns\"}"
        run_in sh -c 'cat /sys/class/net/lo/operstate; readlink /proc/self/ns/net'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = unknown ]
        [ "${lines[1]}" = "net:[$(stat -L -c %i "$T/netns")]" ]
        umount "$T/netns"
}

@test "a namespace path that does not exist is a clear error" {
        bundle_set "$B" '(.linux.namespaces[] | select(.type == "network")) += {"path": "/nonexistent/ns"}'
        run rt run -b "$B" n1
        [ "$status" -eq 1 ]
        [[ "$output" == *"linux.namespaces[1].path"*"/nonexistent/ns"* ]]
        assert_gone n1
}

@test "root.readonly: the root filesystem is read-only" {
        run_in sh -c 'touch /x 2>&1; echo rc=$?'
        [[ "$output" == *"Read-only file system"* ]]
        bundle_set "$B" '.root.readonly = false'
        run_in sh -c 'touch /x && echo ok'
        [ "$output" = ok ]
}

@test "--no-pivot uses MS_MOVE and chroot" {
        bundle_set "$B" '.process.args = ["sh", "-c", "ls /bin/busybox && cat /proc/self/mountinfo | wc -l"]'
        run rt run --no-pivot -b "$B" np1
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = /bin/busybox ]
}

@test "rootfsPropagation is applied to the container's root" {
        bundle_set "$B" '.linux.rootfsPropagation = "rprivate"'
        run_in awk '$5 == "/"' /proc/self/mountinfo
        [ "$status" -eq 0 ]
        [[ "$output" == *" / "* ]]
        [[ "$output" != *shared:* ]]
        bundle_set "$B" '.linux.rootfsPropagation = "shared"'
        run_in awk '$5 == "/"' /proc/self/mountinfo
        [ "$status" -eq 0 ]
        [[ "$output" == *shared:* ]]
}

@test "mounts: tmpfs options, bind ro/rw, relative bind sources, file binds" {
        mkdir -p "$T/data" "$B/shared"
        echo hostfile >"$T/data/file"
        echo single >"$T/single"
        echo rel >"$B/shared/r"
        bundle_set "$B" ".mounts += [
                {\"destination\": \"/scratch\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"mode=700\", \"size=1m\", \"noexec\"]},
                {\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$T/data\", \"options\": [\"bind\", \"ro\"]},
                {\"destination\": \"/rw\", \"type\": \"none\", \"source\": \"$T/data\", \"options\": [\"rbind\", \"rw\", \"nosuid\", \"nodev\"]},
                {\"destination\": \"/rel\", \"type\": \"bind\", \"source\": \"shared\", \"options\": [\"bind\"]},
                {\"destination\": \"/etc/single\", \"type\": \"bind\", \"source\": \"$T/single\", \"options\": [\"bind\", \"ro\"]}]"
        run_in sh -c 'stat -c %a /scratch; grep " /scratch " /proc/mounts; cat /ro/file; echo x >/ro/new 2>&1; echo new >/rw/new; grep " /rw " /proc/mounts; cat /rel/r; cat /etc/single'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 700 ]
        [[ "${lines[1]}" == *"tmpfs"*"noexec"*"size=1024k"* ]]
        [ "${lines[2]}" = hostfile ]
        [[ "${lines[3]}" == *"Read-only file system"* ]]
        [[ "${lines[4]}" == *"rw,nosuid,nodev"* ]]
        [ "${lines[5]}" = rel ]
        [ "${lines[6]}" = single ]
        [ "$(cat "$T/data/new")" = new ]
}

@test "mounts: recursive read-only (rro) reaches submounts" {
        mkdir -p "$T/outer/inner"
        mount -t tmpfs tmpfs "$T/outer/inner"
        bundle_set "$B" ".mounts += [{\"destination\": \"/o\", \"type\": \"bind\", \"source\": \"$T/outer\", \"options\": [\"rbind\", \"rro\"]}]"
        run_in sh -c 'touch /o/inner/x 2>&1'
        umount "$T/outer/inner"
        [[ "$output" == *"Read-only file system"* ]]
}

@test "mounts: a destination symlink cannot leave the rootfs" {
        ln -s /etc "$B/rootfs/escape"
        bundle_set "$B" '.root.readonly = false | .mounts += [{"destination": "/escape/berth-escape-test", "type": "tmpfs", "source": "tmpfs"}]'
        run_in sh -c 'grep berth-escape-test /proc/mounts'
        [ "$status" -eq 0 ]
        [[ "$output" == *" /etc/berth-escape-test "* ]]
        [ ! -e /etc/berth-escape-test ]
        [ -d "$B/rootfs/etc/berth-escape-test" ]
}

@test "mounts: a missing bind source and an unknown filesystem are clear errors" {
        bundle_set "$B" '.mounts += [{"destination": "/x", "type": "bind", "source": "/nonexistent/src", "options": ["bind"]}]'
        run rt run -b "$B" m1
        [ "$status" -eq 1 ]
        [[ "$output" == *"mount source \`/nonexistent/src\` for \`/x\` does not exist"* ]]
        assert_gone m1
        make_bundle "$B.2" true
        B=$B.2
        bundle_set "$B" '.mounts += [{"destination": "/x", "type": "nosuchfs", "source": "x"}]'
        run rt run -b "$B" m2
        [ "$status" -eq 1 ]
        [[ "$output" == *"unknown filesystem type \`nosuchfs\`"* ]]
        bundle_set "$B" '.mounts = [.mounts[0], {"destination": "/x", "type": "tmpfs", "source": "tmpfs", "options": ["nosuchoption=1"]}]'
        run rt run -b "$B" m3
        [ "$status" -eq 1 ]
        [[ "$output" == *"nosuchoption"* ]]
}

@test "mounts: tmpcopyup copies what the image has under the tmpfs" {
        mkdir -p "$B/rootfs/seeded"
        echo seed >"$B/rootfs/seeded/file"
        bundle_set "$B" '.mounts += [{"destination": "/seeded", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup"]}]'
        run_in sh -c 'cat /seeded/file; grep " /seeded " /proc/mounts'
        [ "${lines[0]}" = seed ]
        [[ "${lines[1]}" == *tmpfs* ]]
}

@test "default devices, /dev links and linux.devices" {
        bundle_set "$B" '.linux.devices = [{"path": "/dev/berthnull", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 7, "gid": 8},
                                          {"path": "/dev/sub/fifo", "type": "p"}]'
        run_in sh -c 'for d in null zero full random urandom tty; do stat -c "%n %t:%T %a" /dev/$d; done; readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx; stat -c "%t:%T %a %u:%g" /dev/berthnull; stat -c %F /dev/sub/fifo; echo x >/dev/null && echo null-ok'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "/dev/null 1:3 666" ]
        [ "${lines[5]}" = "/dev/tty 5:0 666" ]
        [ "${lines[6]}" = /proc/self/fd ]
        [ "${lines[7]}" = /proc/self/fd/0 ]
        [ "${lines[8]}" = pts/ptmx ]
        [ "${lines[9]}" = "1:3 660 7:8" ]
        [ "${lines[10]}" = fifo ]
        [ "${lines[11]}" = null-ok ]
}

@test "maskedPaths and readonlyPaths" {
        run_in sh -c 'cat /proc/keys 2>&1 | wc -c; ls /sys/firmware | wc -l; echo 1 >/proc/sys/kernel/domainname 2>&1; grep " /proc/sys " /proc/mounts'
        [ "${lines[0]}" = 0 ]
        [ "${lines[1]}" = 0 ]
        [[ "${lines[2]}" == *"Read-only file system"* ]]
        [[ "${lines[3]}" == *"proc ro,"* ]]
}

@test "sysctl: namespaced keys are written, host-wide ones refused" {
        bundle_set "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456"}'
        run_in sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 1 ]
        [ "${lines[1]}" = 123456 ]
        bundle_set "$B" '.linux.sysctl = {"vm.swappiness": "10"}'
        run rt run -b "$B" s2
        [ "$status" -eq 1 ]
        [[ "$output" == *"vm.swappiness"*"not in a separate kernel namespace"* ]]
        assert_gone s2
}

@test "process: env, cwd (created when missing), umask" {
        bundle_set "$B" '.process.env = ["FOO=bar", "PATH=/bin"] | .process.cwd = "/work/dir" | .process.user.umask = 63 | .root.readonly = false'
        run_in sh -c 'echo $FOO; pwd; umask'
        [ "${lines[0]}" = bar ]
        [ "${lines[1]}" = /work/dir ]
        [ "${lines[2]}" = 0077 ]
}

@test "process.user: uid, gid and additionalGids" {
        bundle_set "$B" '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7]}'
        run_in sh -c 'id -u; id -g; cat /proc/self/status | grep Groups'
        [ "${lines[0]}" = 1000 ]
        [ "${lines[1]}" = 1001 ]
        [[ "${lines[2]}" == *"5 7"* ]]
}

@test "process.rlimits, noNewPrivileges and oomScoreAdj" {
        bundle_set "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 500, "hard": 600}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
                | .process.oomScoreAdj = 500 | .process.noNewPrivileges = true'
        run_in sh -c 'ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj; grep NoNewPrivs /proc/self/status'
        [ "${lines[0]}" = 500 ]
        [ "${lines[1]}" = 600 ]
        [ "${lines[2]}" = 0 ]
        [ "${lines[3]}" = 500 ]
        [[ "${lines[4]}" == *1 ]]
        bundle_set "$B" '.process.noNewPrivileges = false'
        run_in grep NoNewPrivs /proc/self/status
        [[ "$output" == *0 ]]
}

@test "an rlimit above the hard limit the host allows is a clear error" {
        bundle_set "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1048576, "hard": 1048576}]'
        run rt run -b "$B" r1
        [ "$status" -eq 1 ]
        [[ "$output" == *"setrlimit RLIMIT_NOFILE"* ]]
        assert_gone r1
}

@test "process.capabilities: all five sets as configured" {
        bundle_set "$B" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
                | .process.user.uid = 1000'
        run_in grep ^Cap /proc/self/status
        [ "${lines[0]}" = "CapInh:	0000000000000020" ]
        [ "${lines[1]}" = "CapPrm:	0000000000000020" ]
        [ "${lines[2]}" = "CapEff:	0000000000000020" ]
        [ "${lines[3]}" = "CapBnd:	0000000000002021" ]
        [ "${lines[4]}" = "CapAmb:	0000000000000020" ]
}

@test "no capabilities section: root keeps none it was not given" {
        bundle_set "$B" '.process.capabilities = {"bounding": [], "effective": [], "permitted": [], "ambient": []}'
        run_in grep -E '^Cap(Eff|Bnd)' /proc/self/status
        [ "${lines[0]}" = "CapEff:	0000000000000000" ]
        [ "${lines[1]}" = "CapBnd:	0000000000000000" ]
}

@test "process.ioPriority, scheduler and personality" {
        bundle_set "$B" '.process.ioPriority = {"class": "IOPRIO_CLASS_IDLE", "priority": 0}
                | .process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}
                | .linux.personality = {"domain": "LINUX32"}'
        run_in sh -c 'uname -m; cut -d" " -f19 /proc/self/stat; grep -o "policy" /proc/self/sched >/dev/null; echo ok'
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == i?86 ]]
        [ "${lines[1]}" = 7 ]
}

@test "hooks: every kind runs at its point with the state on stdin" {
        cat >"$T/hook" <<EOS
#!/bin/sh
st=\$(cat)
echo "\$1 \$(echo "\$st" | jq -r .status) \$(echo "\$st" | jq -r .id) \$(echo "\$st" | jq .pid)" >>$T/hooks.log
EOS
        chmod +x "$T/hook"
        hk() { echo "[{\"path\": \"$T/hook\", \"args\": [\"hook\", \"$1\"]}]"; }
        bundle_set "$B" ".hooks = {\"prestart\": $(hk prestart), \"createRuntime\": $(hk createRuntime), \"createContainer\": $(hk createContainer),
                \"poststart\": $(hk poststart), \"poststop\": $(hk poststop)} | .process.args = [\"sleep\", \"100\"]"
        rt create -b "$B" h1
        pid=$(rt state h1 | jq .pid)
        [ "$(cut -d' ' -f1 "$T/hooks.log" | tr '\n' ' ')" = "prestart createRuntime createContainer " ]
        # Status "created" as crun reports it (runtime-tools: hooks_stdin).
        grep -q "^prestart created h1 $pid$" "$T/hooks.log"
        grep -q "^createRuntime created h1 $pid$" "$T/hooks.log"
        grep -q "^createContainer created h1 $pid$" "$T/hooks.log"
        rt start h1
        grep -q "^poststart running h1 $pid$" "$T/hooks.log"
        rt delete --force h1
        grep -q "^poststop stopped h1" "$T/hooks.log"
        assert_gone h1
}

@test "hooks: startContainer runs in the container before the process" {
        bundle_set "$B" '.root.readonly = false | .hooks = {"startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "hostname > /started"]}]} | .process.args = ["cat", "/started"] | .hostname = "inside"'
        run rt run -b "$B" h2
        [ "$status" -eq 0 ]
        [ "$output" = inside ]
}

@test "hooks: a failing prestart hook fails create and leaves nothing" {
        bundle_set "$B" '.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "echo hook-said-no >&2; exit 3"]}]}'
        run rt create -b "$B" h3
        [ "$status" -eq 1 ]
        [[ "$output" == *"prestart hook"*"exit status 3"*"hook-said-no"* ]]
        assert_gone h3
}

@test "hooks: a timeout kills the hook; failing poststart only warns" {
        bundle_set "$B" '.hooks = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
        SECONDS=0
        run rt create -b "$B" h4
        [ "$status" -eq 1 ]
        [[ "$output" == *"did not finish within 1 seconds"* ]]
        [ "$SECONDS" -lt 20 ]
        assert_gone h4
        bundle_set "$B" '.hooks = {"poststart": [{"path": "/bin/false"}]} | .process.args = ["echo", "ran"]'
        run rt run -b "$B" h5
        [ "$status" -eq 0 ]
        [[ "$output" == *"poststart hook"*"failed"* ]]
        [[ "$output" == *ran* ]]
}

@test "security settings that cannot be honoured are refused, never ignored" {
        bundle_set "$B" '.process.apparmorProfile = "berth-test"'
        run rt run -b "$B" a1
        [ "$status" -eq 1 ]
        [[ "$output" == *"AppArmor is not enabled"* ]]
        bundle_set "$B" 'del(.process.apparmorProfile) | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
        run rt run -b "$B" a2
        [ "$status" -eq 1 ]
        [[ "$output" == *"SELinux is not enabled"* ]]
        assert_gone a1
        assert_gone a2
}
