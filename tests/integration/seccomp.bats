#!/usr/bin/env bats
# linux.seccomp in real containers: a denied syscall, errnoRet, the default
# profile, SCMP_ACT_NOTIFY with a listener, and a bad profile that fails
# `create` cleanly. BERTH_TEST_RUNTIME=runc runs the same session on runc.

load ../lib/bundle

BUILD=${BERTH_BUILD:-$BATS_TEST_DIRNAME/../../build}
# The runtime of this build, never one installed elsewhere on the host.
RUNTIME=${BERTH_TEST_RUNTIME:-$BUILD/src/cmd/berth-runtime/berth-runtime}
TOOLS=$BUILD/tests/tools/seccomp
DEFAULT_PROFILE=$BATS_TEST_DIRNAME/../../data/seccomp/default.json

setup_file() {
        export SKIP_REASON=
        if [ "$(id -u)" != 0 ]; then
                SKIP_REASON="needs root"
        elif ! command -v "$RUNTIME" >/dev/null; then
                SKIP_REASON="no runtime at $RUNTIME (not built yet)"
        elif [ ! -x "$TOOLS/seccomp-agent" ] || [ ! -x "$TOOLS/seccomp-resolve" ]; then
                SKIP_REASON="tests/tools/seccomp is not built"
        elif [ ! -x "$BUSYBOX_BIN" ]; then
                SKIP_REASON="needs busybox-static"
        fi
        [ -z "$SKIP_REASON" ] || return 0
        WORK=$(mktemp -d /tmp/berth-seccomp.XXXXXX)
        export WORK BERTH_TEMPLATE_ROOTFS=$WORK/rootfs
        make_rootfs "$BERTH_TEMPLATE_ROOTFS"
}

teardown_file() {
        [ -n "${WORK:-}" ] && [ -d "$WORK" ] || return 0
        rm -rf "$WORK"
}

setup() {
        [ -z "$SKIP_REASON" ] || skip "$SKIP_REASON"
        ID=berth-seccomp-$BATS_TEST_NUMBER-$$
        ROOT=$WORK/state
        BUNDLE=$WORK/bundle-$BATS_TEST_NUMBER
        AGENT_PID=
}

teardown() {
        [ -z "$SKIP_REASON" ] || return 0
        "$RUNTIME" --root "$ROOT" delete -f "$ID" >/dev/null 2>&1 || true
        if [ -n "$AGENT_PID" ]; then
                kill "$AGENT_PID" 2>/dev/null || true
                wait "$AGENT_PID" 2>/dev/null || true
        fi
        rm -rf "$BUNDLE" "$WORK/agent.sock" "$WORK/agent.ready" "$WORK/agent.state"
}

# A bundle running `sh -c SCRIPT` with a writable /tmp.
bundle_with() {
        make_bundle "$BUNDLE" sh -c "$1"
        bundle_set "$BUNDLE" '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                                           "options": ["nosuid", "nodev"]}]'
}

set_seccomp() {
        bundle_set "$BUNDLE" ".linux.seccomp = $1"
}

run_container() {
        run "$RUNTIME" --root "$ROOT" run -b "$BUNDLE" "$ID"
}

@test "a denied syscall fails with EPERM, everything else runs" {
        bundle_with 'mkdir /tmp/d; echo "mkdir=$?"; touch /tmp/f && echo touched'
        run_container
        [ "$status" -eq 0 ]
        [[ "$output" == *"mkdir=0"* ]]

        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
        run_container
        [ "$status" -eq 0 ]
        [[ "$output" == *"Operation not permitted"* ]]
        [[ "$output" == *"mkdir=1"* ]]
        [[ "$output" == *"touched"* ]]
}

@test "errnoRet chooses the error" {
        bundle_with 'mkdir /tmp/d'
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}]}'
        run_container
        [ "$status" -ne 0 ]
        [[ "$output" == *"Disk quota exceeded"* ]]
}

@test "a shell works under the default profile, which refuses new namespaces" {
        local caps=CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE
        # One line: make_bundle splits arguments at newlines.
        bundle_with 'echo hello; ls / >/dev/null && echo ls-ok; mkdir /tmp/a && rmdir /tmp/a && echo fs-ok; (echo subshell-ok); unshare -U true; echo "unshare=$?"'
        run_container
        [ "$status" -eq 0 ]
        [[ "$output" == *"unshare=0"* ]] # allowed without seccomp: unprivileged user namespace

        "$TOOLS/seccomp-resolve" "$DEFAULT_PROFILE" native "$caps" >"$WORK/default-resolved.json"
        set_seccomp "$(cat "$WORK/default-resolved.json")"
        run_container
        [ "$status" -eq 0 ]
        [[ "$output" == *"hello"* ]]
        [[ "$output" == *"ls-ok"* ]]
        [[ "$output" == *"fs-ok"* ]]
        [[ "$output" == *"subshell-ok"* ]]
        [[ "$output" == *"unshare=1"* ]]
}

@test "SCMP_ACT_NOTIFY hands the syscalls to the agent at listenerPath" {
        "$TOOLS/seccomp-agent" "$WORK/agent.sock" "$WORK/agent.state" "$WORK/agent.ready" &
        AGENT_PID=$!
        local i
        for i in $(seq 100); do
                [ -e "$WORK/agent.ready" ] && break
                sleep 0.1
        done
        [ -e "$WORK/agent.ready" ]

        # The agent answers success without creating anything.
        bundle_with 'mkdir /tmp/d; echo "mkdir=$?"; if [ -d /tmp/d ]; then echo exists; else echo absent; fi'
        set_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"listenerPath\": \"$WORK/agent.sock\",
                      \"listenerMetadata\": \"berth-test\",
                      \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}"
        run_container
        [ "$status" -eq 0 ]
        [[ "$output" == *"mkdir=0"* ]]
        [[ "$output" == *"absent"* ]]

        [ "$(jq -r .metadata "$WORK/agent.state")" = berth-test ]
        [ "$(jq -c .fds "$WORK/agent.state")" = '["seccompFd"]' ]
        [ "$(jq -r .state.id "$WORK/agent.state")" = "$ID" ]
        [ "$(jq -r .state.bundle "$WORK/agent.state")" = "$BUNDLE" ]
        [ "$(jq -r .pid "$WORK/agent.state")" -gt 0 ]
        [ -n "$(jq -r .ociVersion "$WORK/agent.state")" ]
        # The agent ends when no process is left under the filter.
        wait "$AGENT_PID"
        AGENT_PID=
}

@test "a bad profile fails create with the field named and leaves nothing behind" {
        bundle_with 'true'
        set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
                      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
                                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_BOGUS"}]}]}'
        run "$RUNTIME" --root "$ROOT" create -b "$BUNDLE" "$ID"
        [ "$status" -ne 0 ]
        [[ "$output" == *"SCMP_CMP_BOGUS"* ]]
        if [ -z "${BERTH_TEST_RUNTIME:-}" ]; then
                [[ "$output" == *"linux.seccomp.syscalls[0].args[0].op: unknown operator"* ]]
        fi
        run "$RUNTIME" --root "$ROOT" state "$ID"
        [ "$status" -ne 0 ]
        [ ! -e "$ROOT/$ID" ]
        run "$RUNTIME" --root "$ROOT" list -q
        [[ "$output" != *"$ID"* ]]
}

@test "features describe seccomp" {
        run "$RUNTIME" features
        [ "$status" -eq 0 ]
        [ "$(jq -r .linux.seccomp.enabled <<<"$output")" = true ]
        jq -e '.linux.seccomp.actions | index("SCMP_ACT_NOTIFY")' <<<"$output"
        jq -e '.linux.seccomp.operators | index("SCMP_CMP_MASKED_EQ")' <<<"$output"
        jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64")' <<<"$output"
}
