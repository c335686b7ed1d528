#!/usr/bin/env bats
# containerd's runc shim (containerd-shim-runc-v2) with berth-runtime as its
# runc binary: `ctr run --runc-binary`. A private containerd (own root, state
# and socket, CRI disabled) is started for this file and stopped after it.

load ../lib/bundle

setup_file() {
        command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd is not installed"
        export CD=$(mktemp -d /tmp/berth-containerd.XXXXXX)
        export RT=${BERTH_RUNTIME:-$(command -v berth-runtime)}
        mkdir -p "$CD/root" "$CD/state"
        cat >"$CD/config.toml" <<EOC
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CD/containerd.sock"
EOC
        containerd --config "$CD/config.toml" >"$CD/containerd.log" 2>&1 &
        echo $! >"$CD/pid"
        for _ in $(seq 100); do [ -S "$CD/containerd.sock" ] && break; sleep 0.1; done
        make_rootfs "$CD/rootfs"
}

teardown_file() {
        case "${CD:-}" in /tmp/berth-containerd.?*) ;; *) return 0 ;; esac
        local id
        for id in $(c tasks ls -q 2>/dev/null); do c tasks kill -s KILL "$id" >/dev/null 2>&1; done
        sleep 0.5
        for id in $(c containers ls -q 2>/dev/null); do c tasks rm -f "$id" >/dev/null 2>&1; c containers rm "$id" >/dev/null 2>&1; done
        [ -f "$CD/pid" ] && kill "$(cat "$CD/pid")" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$(cat "$CD/pid")" 2>/dev/null || break; sleep 0.1; done
        awk -v p="$CD/" 'substr($5, 1, length(p)) == p {print $5}' /proc/self/mountinfo | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$CD"
}

c() {
        ctr --address "$CD/containerd.sock" "$@"
}

@test "ctr run --runc-binary berth-runtime runs a container" {
        run c run --rm --runc-binary "$RT" --rootfs "$CD/rootfs" ctr1 /bin/sh -c 'echo hello from containerd; id -u'
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "hello from containerd" ]
        [ "${lines[1]}" = 0 ]
}

@test "ctr: exit status and a detached task with exec and kill" {
        run c run --rm --runc-binary "$RT" --rootfs "$CD/rootfs" ctr2 /bin/sh -c 'exit 4'
        [ "$status" -eq 4 ]
        c run -d --runc-binary "$RT" --rootfs "$CD/rootfs" ctr3 /bin/sleep 1000
        run c tasks exec --exec-id e1 ctr3 /bin/sh -c 'echo exec-ok'
        [ "$status" -eq 0 ]
        [ "$output" = exec-ok ]
        c tasks kill -s KILL ctr3
        for _ in $(seq 50); do c tasks ls | grep -q "ctr3.*STOPPED" && break; sleep 0.1; done
        c tasks rm ctr3
        c containers rm ctr3
}
