#!/usr/bin/env bats
# podman drives berth-runtime as its OCI runtime (--runtime), as a user would.
# podman gets its own root, runroot and tmpdir; this host needs the cgroupfs
# manager (no systemd) and nofile/nproc limits below the hard limit.

load ../lib/bundle
bats_require_minimum_version 1.5.0

setup_file() {
        command -v podman >/dev/null || skip "podman is not installed"
        export PD=$(mktemp -d /tmp/berth-podman.XXXXXX)
        export RT=${BERTH_RUNTIME:-$(command -v berth-runtime)}
        make_rootfs "$PD/rootfs"
        tar -C "$PD/rootfs" -cf "$PD/busybox.tar" .
        pm import "$PD/busybox.tar" localhost/berth-busybox:test >/dev/null
}

teardown_file() {
        case "${PD:-}" in /tmp/berth-podman.?*) ;; *) return 0 ;; esac
        pm rm -af >/dev/null 2>&1 || true
        pm rmi -af >/dev/null 2>&1 || true
        awk -v p="$PD/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$PD"
}

pm() {
        podman --root "$PD/root" --runroot "$PD/runroot" --tmpdir "$PD/tmp" --cgroup-manager cgroupfs \
                --events-backend none "$@"
}

prun() {
        pm --runtime "$RT" run --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "$@"
}

@test "podman run --rm with berth-runtime" {
        run prun --rm localhost/berth-busybox:test sh -c 'echo hello from podman; id -u'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "hello from podman" ]
        [ "${lines[1]}" = 0 ]
}

@test "podman: exit status, user, env and workdir reach the container" {
        run prun --rm -u 1000:1000 -e FOO=bar -w /tmp localhost/berth-busybox:test sh -c 'echo $FOO $(id -u) $(pwd); exit 3'
        [ "$status" -eq 3 ]
        [ "$output" = "bar 1000 /tmp" ]
}

@test "podman: detached container, exec, stop and rm" {
        id=$(prun -d localhost/berth-busybox:test sleep 1000)
        run pm exec "$id" sh -c 'echo in-exec; hostname'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = in-exec ]
        pm stop -t 1 "$id" >/dev/null
        pm rm "$id" >/dev/null
        ! ls "$PD/runroot" | grep -q "$id" || true
}

@test "podman: a missing command exits 127" {
        run -127 prun --rm localhost/berth-busybox:test /no/such/cmd
        [ "$status" -eq 127 ]
}

@test "podman: --memory and --pids-limit reach the cgroup" {
        run prun --rm --memory 64m --pids-limit 50 localhost/berth-busybox:test sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = 67108864 ]
        [ "${lines[1]}" = 50 ]
}

@test "podman run -t gives the container a terminal" {
        run script -qec "podman --root $PD/root --runroot $PD/runroot --tmpdir $PD/tmp --cgroup-manager cgroupfs --events-backend none --runtime $RT run --rm -t --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 localhost/berth-busybox:test tty" /dev/null
        [ "$status" -eq 0 ]
        [[ "$output" == */dev/pts/0* ]]
}
