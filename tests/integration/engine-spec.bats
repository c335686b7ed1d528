#!/usr/bin/env bats
# src/engine/spec end to end: `berth run` flags -> config.json (tests/tools/berth-spec)
# -> a real OCI runtime running a busybox rootfs, checked from inside the container.
#
# Every config carries docker's devices cgroup rules and (but --privileged ones)
# docker's seccomp profile, so the runtime must apply linux.resources and
# linux.seccomp: berth-runtime once its `features` report a cgroup backend (the
# `cgroups` branch) and seccomp, runc until then.

load ../lib/bundle

SPEC=${BERTH_BUILD:+$BERTH_BUILD/tests/tools/berth-spec}
DEFAULT_PROFILE=$BATS_TEST_DIRNAME/../../data/seccomp/default.json

setup_file() {
        BERTH_TEMPLATE_ROOTFS=$(mktemp -d /tmp/berth-tmpl.XXXXXX)/rootfs
        make_rootfs "$BERTH_TEMPLATE_ROOTFS"
        export BERTH_TEMPLATE_ROOTFS
}

teardown_file() {
        case "${BERTH_TEMPLATE_ROOTFS:-}" in
        /tmp/berth-tmpl.?*/rootfs) rm -rf "$(dirname "$BERTH_TEMPLATE_ROOTFS")" ;;
        esac
}

# pick_runtime [JQ-CONDITION]: berth-runtime if its features meet the condition, else runc.
pick_runtime() {
        local rt need="(.linux.cgroup.v1 or .linux.cgroup.v2)${1:+ and ($1)}"
        rt=$(command -v berth-runtime || true)
        if [ -n "$rt" ] && "$rt" features 2>/dev/null | jq -e "$need" >/dev/null; then
                echo "$rt"
        else
                command -v runc
        fi
}

setup() {
        [ -x "$SPEC" ] || skip "berth-spec not built (run through scripts/test)"
        # docker's default seccomp profile is in every config but --privileged ones
        RT=$(pick_runtime .linux.seccomp.enabled)
        T=$(mktemp -d /tmp/berth-test.XXXXXX)
        case "$T" in /tmp/berth-test.?*) ;; *) echo "bad temp dir '$T'"; return 1 ;; esac
        # The cgroup parent of this test's containers, at the top of each hierarchy: ours alone.
        CGP=/berth-test-${T##*.}
        ID=c$BATS_TEST_NUMBER${T##*.}
        cp -a "$BERTH_TEMPLATE_ROOTFS" "$T/rootfs"
        printf 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.test\n' >"$T/host-resolv.conf"
}

teardown() {
        case "${T:-}" in /tmp/berth-test.?*) ;; *) return 0 ;; esac
        "$RT" --root "$T/state" delete --force "$ID" >/dev/null 2>&1 || true
        local d
        # Only the two directories this test's cgroup parent can have: $CGP/$ID and $CGP.
        for d in /sys/fs/cgroup/*"$CGP/$ID" /sys/fs/cgroup/*"$CGP"; do
                case "$d" in /sys/fs/cgroup/?*/berth-test-?*) [ -d "$d" ] && rmdir "$d" 2>/dev/null ;; esac
        done
        grep -F " $T/" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
                case "$m" in "$T"/?*) umount -l "$m" 2>/dev/null || true ;; esac
        done
        rm -rf "$T"
}

# spec FLAGS... [-- CMD...]: writes $T/bundle/config.json and the files in $T/files.
spec() {
        "$SPEC" --bundle "$T/bundle" --rootfs "$T/rootfs" --files-dir "$T/files" --id "$ID" --name web \
                --cgroup-parent "$CGP" --host-resolv-conf "$T/host-resolv.conf" --seccomp-profile "$DEFAULT_PROFILE" "$@"
}

# ctr FLAGS... -- CMD...: builds the config and runs it in the foreground.
ctr() {
        spec "$@" || return 1
        run "$RT" --root "$T/state" run -b "$T/bundle" "$ID" </dev/null
        "$RT" --root "$T/state" delete --force "$ID" >/dev/null 2>&1 || true
}

# cgroup_file CTRL FILE: a cgroup v1 file of the created (not started) container.
cgroup_file() {
        cat "/sys/fs/cgroup/$1$CGP/$ID/$2"
}

@test "defaults: root with docker's capabilities, short-id hostname, docker's environment" {
        ctr -- sh -c 'id; hostname; cat /etc/hostname; grep -E "^(Cap(Eff|Bnd)|Seccomp):" /proc/self/status; env | sort; pwd'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "uid=0(root) gid=0(root) groups=0(root)" ]
        short=${ID:0:12}
        [ "${lines[1]}" = "$short" ]
        [ "${lines[2]}" = "$short" ]
        # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
        [[ "$output" == *"CapEff:	00000000a80425fb"* ]]
        [[ "$output" == *"CapBnd:	00000000a80425fb"* ]]
        [[ "$output" == *"Seccomp:	2"* ]]
        [[ "$output" == *"HOSTNAME=$short"* ]]
        [[ "$output" == *"HOME=/root"* ]]
        [[ "$output" == *"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"* ]]
        [[ "$output" != *"TERM="* ]]
        [ "${lines[-1]}" = "/" ]
}

@test "-u nobody runs as 65534 with HOME from the image's passwd" {
        ctr -u nobody -- sh -c 'id -u; id -g; echo $HOME; grep CapEff /proc/self/status'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 65534 ]
        [ "${lines[1]}" = 65534 ]
        [ "${lines[2]}" = /nonexistent ]
        [ "${lines[3]}" = "CapEff:	0000000000000000" ]
}

@test "-u with a name missing from the image fails with docker's message" {
        run spec -u ghost -- true
        [ "$status" -ne 0 ]
        [[ "$output" == *"unable to find user ghost: no matching entries in passwd file"* ]]
}

@test "users come from the rootfs even when its /etc/passwd is a symlink to the host's" {
        rm "$T/rootfs/etc/passwd"
        printf 'svc:x:4321:4321::/home/svc:/bin/sh\n' >"$T/rootfs/passwd.real"
        ln -s /passwd.real "$T/rootfs/etc/passwd"
        ctr -u svc -- id -u
        [ "$status" -eq 0 ]
        [ "$output" = 4321 ]
        # root exists on the host, not in this image
        run spec -u root -- true
        [ "$status" -ne 0 ]
        [[ "$output" == *"unable to find user root"* ]]
}

@test "--cap-drop ALL leaves no capabilities; --cap-add puts one back" {
        ctr --cap-drop ALL -- grep -E '^Cap(Eff|Bnd)' /proc/self/status
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "CapEff:	0000000000000000" ]
        [ "${lines[1]}" = "CapBnd:	0000000000000000" ]
        ctr --cap-drop ALL --cap-add CHOWN -- grep CapEff /proc/self/status
        [ "$output" = "CapEff:	0000000000000001" ]
}

@test "--privileged: every capability and the host's devices" {
        # every capability berth itself holds (no more can be granted)
        want=$(awk '/^CapEff/ {print $2}' /proc/self/status)
        ctr --privileged -- sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; ls /dev'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "CapEff:	$want" ]
        [ "${lines[1]}" = "Seccomp:	0" ]
        [[ "$output" == *loop-control* || "$output" == *tty0* || "$output" == *mem* ]]
}

@test "--read-only: the root and the per-container files are read-only, --tmpfs is writable" {
        ctr --read-only --tmpfs /run:size=1m -- sh -c 'touch /x || echo root-ro; echo >>/etc/hosts || echo hosts-ro; touch /run/y && echo run-rw; touch /dev/shm/z && echo shm-rw'
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *root-ro* ]]
        [[ "$output" == *hosts-ro* ]]
        [[ "$output" == *run-rw* ]]
        [[ "$output" == *shm-rw* ]]
}

@test "/etc/hosts: localhost, --add-host, the container's address and name" {
        ctr --hostname box --ip 10.89.0.9 --add-host db:192.0.2.7 --add-host v6=[2001:db8::1] -- cat /etc/hosts /etc/hostname
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "127.0.0.1	localhost" ]
        [ "${lines[1]}" = "::1	localhost ip6-localhost ip6-loopback" ]
        [[ "$output" == *"192.0.2.7	db"* ]]
        [[ "$output" == *"2001:db8::1	v6"* ]]
        [[ "$output" == *"10.89.0.9	box web"* ]]
        [ "${lines[-1]}" = box ]
}

@test "/etc/resolv.conf: the host's without loopback servers, or --dns/--dns-search/--dns-option" {
        ctr -- cat /etc/resolv.conf
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *"nameserver 192.0.2.53"* ]]
        [[ "$output" != *127.0.0.53* ]]
        [[ "$output" == *"search example.test"* ]]
        ctr --dns 198.51.100.1 --dns-search corp.test --dns-option ndots:3 -- cat /etc/resolv.conf
        [[ "$output" == *"nameserver 198.51.100.1"* ]]
        [[ "$output" != *192.0.2.53* ]]
        [[ "$output" == *"search corp.test"* ]]
        [[ "$output" == *"options ndots:3"* ]]
}

@test "--ulimit nofile sets both limits; by default nofile is the host's hard limit at most" {
        ctr --ulimit nofile=512:1024 -- sh -c 'ulimit -n; ulimit -Hn'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 512 ]
        [ "${lines[1]}" = 1024 ]
        hard=$(ulimit -Hn)
        if [ "$hard" = unlimited ] || [ "$hard" -gt 1048576 ]; then
                hard=1048576
        fi
        ctr -- sh -c 'ulimit -n; ulimit -Hn'
        [ "${lines[0]}" = "$hard" ]
        [ "${lines[1]}" = "$hard" ]
}

@test "--pids-limit and --memory reach the container's cgroups" {
        [ -d /sys/fs/cgroup/pids ] && [ -d /sys/fs/cgroup/memory ] || skip "needs cgroup v1 pids and memory"
        spec --pids-limit 42 --memory 64m --memory-reservation 32m --cpu-shares 512 -- sleep 60
        "$RT" --root "$T/state" create -b "$T/bundle" "$ID" </dev/null >/dev/null 2>&1
        [ "$(cgroup_file pids pids.max)" = 42 ]
        [ "$(cgroup_file memory memory.limit_in_bytes)" = 67108864 ]
        [ "$(cgroup_file memory memory.soft_limit_in_bytes)" = 33554432 ]
        [ "$(cgroup_file cpu cpu.shares)" = 512 ]
        "$RT" --root "$T/state" delete --force "$ID"
}

@test "a fork bomb stops at --pids-limit" {
        [ -d /sys/fs/cgroup/pids ] || skip "needs the pids controller"
        ctr --pids-limit 5 -- sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait; echo done'
        echo "$output"
        [[ "$output" == *"Resource temporarily unavailable"* || "$output" == *"can't fork"* ]]
}

@test "-w, -e, --env-file and the image's Env reach the process" {
        printf '# comment\nFROMFILE=file\nOVER=file\n' >"$T/env.list"
        ctr -w /srv/app --env-file "$T/env.list" -e OVER=flag --image-env IMG=image --image-env OVER=image \
                -- sh -c 'pwd; echo $FROMFILE $OVER $IMG'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = /srv/app ]
        [ "${lines[1]}" = "file flag image" ]
        [ -d "$T/rootfs/srv/app" ]
}

@test "the image's Entrypoint and Cmd, replaced and cleared as docker does" {
        ctr --image-entrypoint echo --image-cmd from-image
        [ "$output" = from-image ]
        ctr --image-entrypoint echo --image-cmd from-image -- from-args
        [ "$output" = from-args ]
        ctr --image-entrypoint echo --image-cmd from-image --entrypoint "" -- echo cleared
        [ "$output" = cleared ]
        run spec --image-entrypoint echo --entrypoint ""
        [ "$status" -ne 0 ]
        [[ "$output" == *"no command specified"* ]]
}

@test "--init runs the command under catatonit as PID 1" {
        [ -x /usr/bin/catatonit ] || skip "catatonit not installed"
        ctr --init -- sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo'
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "${lines[0]}" == "/sbin/berth-init -- sh -c"* ]]
}

@test "-v binds a host directory, read-only with :ro; a named volume is writable" {
        mkdir "$T/hostdir" && echo hello >"$T/hostdir/f"
        ctr -v "$T/hostdir:/data:ro" -v cache:/cache -- sh -c 'cat /data/f; touch /data/g || echo data-ro; touch /cache/x && echo cache-rw'
        echo "$output"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = hello ]
        [[ "$output" == *data-ro* ]]
        [[ "$output" == *cache-rw* ]]
        [ -e "$T/files/volumes/cache/x" ]
}

@test "--security-opt seccomp=PROFILE filters and no-new-privileges sets the bit" {
        cat >"$T/profile.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
EOF
        ctr --security-opt "seccomp=$T/profile.json" --security-opt no-new-privileges -- sh -c 'mkdir /tmp/d || echo denied; grep NoNewPrivs /proc/self/status'
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" == *denied* ]]
        [[ "$output" == *"NoNewPrivs:	1"* ]]
        ctr -- grep NoNewPrivs /proc/self/status
        [ "$output" = "NoNewPrivs:	0" ]
}

@test "--network none gets its own network namespace with only loopback; --network host shares the host's" {
        ctr --network none -- sh -c 'ls /sys/class/net'
        [ "$status" -eq 0 ]
        [ "$output" = lo ]
        ctr --network host -- hostname
        [ "$output" = "$(hostname)" ]
}

@test "bad flag values fail before anything runs, naming the flag" {
        run spec --memory 12q -- true
        [ "$status" -ne 0 ]
        [[ "$output" == *'--memory: invalid size `12q`'* ]]
        run spec --cpus 0 -- true
        [[ "$output" == *"--cpus: must be > 0"* ]]
        run spec --ulimit foo=1 -- true
        [[ "$output" == *'--ulimit: unknown limit `foo`'* ]]
        run spec --cap-add CAP_X -- true
        [[ "$output" == *'--cap-add: unknown capability `CAP_X`'* ]]
        [ ! -e "$T/bundle/config.json" ]
}
