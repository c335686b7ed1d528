# Shared helpers for bats tests: OCI bundles built from Debian's busybox-static.
#   load ../lib/bundle
#   make_rootfs DIR               busybox rootfs (bin/ with all applets, etc/passwd, group)
#   make_bundle DIR [ARG...]      DIR/rootfs + DIR/config.json running ARG... (default: sh)
#   bundle_set DIR [JQ-OPT...] EXPR  edit DIR/config.json in place with jq
# The config is what `runc spec` writes, minus the terminal and cgroup resources.

BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}

make_rootfs() {
        local dir=$1
        mkdir -p "$dir"/bin "$dir"/etc "$dir"/proc "$dir"/sys "$dir"/dev "$dir"/tmp "$dir"/root
        cp "$BUSYBOX_BIN" "$dir/bin/busybox"
        local a
        for a in $("$BUSYBOX_BIN" --list); do
                [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"
        done
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
        printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$dir/etc/group"
        chmod 1777 "$dir/tmp"
}

make_bundle() {
        local dir=$1
        shift
        [ $# -gt 0 ] || set -- sh
        if [ -n "${BERTH_TEMPLATE_ROOTFS:-}" ] && [ -d "$BERTH_TEMPLATE_ROOTFS" ]; then
                mkdir -p "$dir" && cp -a "$BERTH_TEMPLATE_ROOTFS" "$dir/rootfs"
        else
                make_rootfs "$dir/rootfs"
        fi
        local args
        args=$(printf '%s\n' "$@" | jq -R . | jq -s .)
        jq --argjson args "$args" '.process.args = $args' >"$dir/config.json" <<'JSON'
{
  "ociVersion": "1.0.2-dev",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "berth",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
JSON
}

# bundle_set DIR [JQ-OPTIONS...] EXPR
bundle_set() {
        local dir=$1 tmp
        shift
        tmp=$(mktemp "$dir/config.json.XXXXXX")
        jq "$@" "$dir/config.json" >"$tmp" && mv "$tmp" "$dir/config.json"
}
