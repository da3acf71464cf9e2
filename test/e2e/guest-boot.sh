#!/usr/bin/env bash
# Manual check (not part of the test suite): the test guest built by
# scripts/build-test-guest.sh boots under QEMU TCG, gets its lease from
# dnsmasq, reports it on the serial console, serves its page over HTTP, and
# powers off cleanly on an ACPI power button press (QMP system_powerdown).
#
# Usage (as root): test/e2e/guest-boot.sh [GUEST_DIR]
#   GUEST_DIR defaults to the build script's default (<repo>/.cache/guest);
#   the guest is (re)built there when needed.
#   READY_TIMEOUT (seconds, default 120) bounds the wait for "ready".
#
# Network safety: everything (bridge, tap, dnsmasq, QEMU, wget) lives in a
# throwaway network namespace gbt<PID>; nothing touches the initial namespace;
# processes are stopped by PID only; the namespace is removed on any exit.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
READY_TIMEOUT=${READY_TIMEOUT:-120}
NS=gbt$$
BR=gbtbr0
TAP=gbttap0
MAC=52:54:00:12:34:56
GUEST_IP=10.99.0.15

log() { printf 'guest-boot: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (network namespaces, tap)"

need() {
  local pair missing=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing missing package(s) with apt-get (as root): ${missing[*]}"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
  fi
}
need qemu-system-x86_64:qemu-system-x86 dnsmasq:dnsmasq-base busybox:busybox-static ip:iproute2

GUEST_DIR=$("$REPO_ROOT/scripts/build-test-guest.sh" ${1:+"$1"})
log "guest: $GUEST_DIR"

TMP=$(mktemp -d /tmp/guest-boot.XXXXXX)
chmod 755 "$TMP"   # dnsmasq drops privileges
QEMU_PID=
NS_CREATED=0

cleanup() {
  local rc=$?
  set +e
  if [[ -n $QEMU_PID ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
    kill -TERM "$QEMU_PID"
    for _ in $(seq 50); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$QEMU_PID" 2>/dev/null && kill -KILL "$QEMU_PID"
    wait "$QEMU_PID" 2>/dev/null
  fi
  if [[ -s $TMP/dnsmasq.pid ]]; then
    local dpid
    dpid=$(cat "$TMP/dnsmasq.pid")
    [[ $dpid =~ ^[0-9]+$ ]] && kill -TERM "$dpid" 2>/dev/null
  fi
  [[ $NS_CREATED -eq 1 ]] && ip netns del "$NS"
  if [[ $rc -ne 0 && -s $TMP/console.log ]]; then
    log "console log:"
    tr -d '\r' <"$TMP/console.log" | sed 's/^/  | /' >&2
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- network: namespace, bridge 10.99.0.1/24, tap, dnsmasq --------------------------
ip netns add "$NS"
NS_CREATED=1
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
nsx ip link add "$BR" type bridge forward_delay 0
nsx ip addr add 10.99.0.1/24 dev "$BR"
nsx ip link set "$BR" up
nsx ip tuntap add dev "$TAP" mode tap
nsx ip link set "$TAP" master "$BR" up

nsx dnsmasq --conf-file=/dev/null --port=0 --bind-interfaces --interface="$BR" \
  --dhcp-range=10.99.0.10,10.99.0.20,255.255.255.0 \
  --dhcp-host="$MAC,$GUEST_IP,guest1,infinite" \
  --dhcp-option=option:mtu,1400 \
  --dhcp-option=option:domain-search,a.example \
  --dhcp-option=option:dns-server,10.99.0.1 \
  --dhcp-leasefile="$TMP/leases" --pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/dnsmasq.log"
log "namespace $NS: $BR 10.99.0.1/24, $TAP, dnsmasq pid $(cat "$TMP/dnsmasq.pid")"

# --- boot -------------------------------------------------------------------------------
START=$(date +%s.%N)
nsx qemu-system-x86_64 -accel tcg -m 256 -nographic -no-reboot \
  -kernel "$GUEST_DIR/vmlinuz" -initrd "$GUEST_DIR/initrd.gz" \
  -append 'console=ttyS0 panic=-1 quiet' \
  -netdev tap,id=n0,ifname="$TAP",script=no,downscript=no \
  -device virtio-net-pci,netdev=n0,mac="$MAC" \
  -qmp unix:"$TMP/qmp.sock",server=on,wait=off \
  </dev/null >"$TMP/console.log" 2>&1 &
QEMU_PID=$!   # ip netns exec execs QEMU, so this is QEMU's PID

console() { tr -d '\r' <"$TMP/console.log"; }
deadline=$(($(date +%s) + READY_TIMEOUT))
until console | grep -x 'STARTVM-GUEST ready' >/dev/null; do
  kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited before the guest was ready"
  [[ $(date +%s) -lt $deadline ]] || fail "no 'STARTVM-GUEST ready' within ${READY_TIMEOUT}s"
  sleep 0.05
done
READY=$(date +%s.%N)
BOOT_TIME=$(awk -v a="$START" -v b="$READY" 'BEGIN { printf "%.2f", b - a }')

# --- checks --------------------------------------------------------------------------
# (readers consume all input: an early exit would SIGPIPE tr under pipefail)
LINE=$(console | awk '/^STARTVM-GUEST iface=eth0 / && !n++')
[[ -n $LINE ]] || fail "no eth0 line on the console"
log "guest said: $LINE"
declare -A GOT=()
for kv in ${LINE#STARTVM-GUEST }; do GOT[${kv%%=*}]=${kv#*=}; done
for want in ip=$GUEST_IP prefix=24 mtu=1400 search=a.example hostname=guest1 mac=$MAC dns=10.99.0.1; do
  [[ ${GOT[${want%%=*}]-} == "${want#*=}" ]] || fail "expected $want, got ${want%%=*}=${GOT[${want%%=*}]-<missing>}"
done

# curl if present; busybox wget otherwise (without -T: busybox 1.35's
# "wget -T" segfaults on this host, so bound it with timeout instead)
if command -v curl >/dev/null; then
  PAGE=$(nsx curl -sS --max-time 5 "http://$GUEST_IP/") || fail "curl http://$GUEST_IP/ failed"
else
  PAGE=$(nsx timeout 10 busybox wget -q -O- "http://$GUEST_IP/") || fail "wget http://$GUEST_IP/ failed"
fi
[[ $PAGE == "startvm-guest hostname=guest1 ip=$GUEST_IP" ]] || fail "unexpected page: $PAGE"
log "page: $PAGE"

# --- clean shutdown via the ACPI power button ------------------------------------------
if command -v python3 >/dev/null; then
  python3 - "$TMP/qmp.sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()  # greeting
for cmd in ("qmp_capabilities", "system_powerdown"):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while "return" not in (r := json.loads(f.readline())):
        if "error" in r: sys.exit(f"QMP {cmd}: {r['error']}")
PY
  for _ in $(seq 300); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$QEMU_PID" 2>/dev/null && fail "guest did not power off within 30s of system_powerdown"
  wait "$QEMU_PID" || fail "QEMU exited with status $? after system_powerdown"
  QEMU_PID=
  console | grep -x 'STARTVM-GUEST shutdown' >/dev/null || fail "no 'STARTVM-GUEST shutdown' line"
  log "ACPI power button: guest powered off cleanly"
else
  log "python3 not found: skipping the ACPI poweroff check"
fi

printf 'guest-boot: PASS: QEMU start to ready: %ss (TCG)\n' "$BOOT_TIME"
