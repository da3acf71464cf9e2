#!/usr/bin/env bash
# Build a tiny test guest for startvm: a Debian kernel plus a busybox initramfs
# that brings up every virtio NIC with DHCP and reports what it got.
#
# Usage: scripts/build-test-guest.sh [OUTDIR]      (default: <repo>/.cache/guest)
#
# Produces OUTDIR/vmlinuz and OUTDIR/initrd.gz (plus OUTDIR/stamp) and prints
# the absolute OUTDIR on stdout; every message goes to stderr.
# Boot it with:  -kernel OUTDIR/vmlinuz -initrd OUTDIR/initrd.gz
#                -append 'console=ttyS0 panic=-1 quiet'
#
# Environment:
#   STARTVM_GUEST_KERNEL_PKG  kernel package, a meta package (resolved to the
#                             versioned linux-image-* it depends on) or a
#                             versioned one; default linux-image-cloud-amd64
#   STARTVM_GUEST_REBUILD=1   ignore the cache
#
# The build is skipped when OUTDIR/stamp records the same kernel package and
# version, the same busybox-static version and the same sha256 of this script.
# Files are built in OUTDIR/.build.XXXXXX and renamed into place; the stamp is
# removed first and written last, so an interrupted build never looks cached.
# Concurrent builds of the same OUTDIR are serialised with flock.
#
# Guest console protocol (serial, one line each, key=value, single spaces,
# lists comma-separated, empty value when absent):
#   STARTVM-GUEST iface=eth0 mac=52:54:00:12:34:56 ip=10.0.0.2 prefix=24
#     router=10.0.0.1 mtu=1400 dns=10.0.0.1 search=a.example,b.example
#     domain=example hostname=web1 routes=0.0.0.0/0via10.0.0.1
#   STARTVM-GUEST iface=eth1 dhcp=failed
#   STARTVM-GUEST ready                  (all NICs done, httpd on port 80 is up)
#   STARTVM-GUEST shutdown               (on poweroff/ACPI power button)
# router/dns/search/domain/hostname/mtu are the DHCP options as received;
# routes are the gateway routes installed from DHCP (option 121 when present,
# else a default route via the first router), each DEST/PREFIX"via"GATEWAY.
# http://<first ip>/ answers "startvm-guest hostname=<hostname> ip=<first ip>".
set -euo pipefail

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
REPO_ROOT=$(cd "$(dirname "$SCRIPT_PATH")/.." && pwd)
KERNEL_PKG_REQ=${STARTVM_GUEST_KERNEL_PKG:-linux-image-cloud-amd64}

# Loaded in this order (dependencies from each module's modinfo are loaded
# first). virtio_ring must precede virtio on Debian's cloud kernel.
NET_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
             virtio_pci failover net_failover virtio_net)
# Loaded after "ready" so they cost no time before the network is up:
# the ACPI power button and evdev let busybox acpid react to system_powerdown.
LATE_MODULES=(button evdev)

log() { printf 'build-test-guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -le 1 ]] || die "usage: $0 [OUTDIR]"
[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, mknod)"
OUTDIR=${1:-$REPO_ROOT/.cache/guest}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)

# --- tools -------------------------------------------------------------------
APT_UPDATED=0
apt_update() {
  if [[ $APT_UPDATED -eq 0 ]]; then
    log "running apt-get update (as root)"
    apt-get update -q >&2
    APT_UPDATED=1
  fi
}
apt_install() {
  apt_update
  log "installing missing package(s) with apt-get (as root): $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2
}
# need CMD:PACKAGE... installs the packages of the missing commands.
need() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
}
command -v apt-get >/dev/null || die "apt-get not found: this script needs a Debian-based host"
need dpkg-deb:dpkg cpio:cpio gzip:gzip flock:util-linux sha256sum:coreutils

# --- what to build -------------------------------------------------------------
# apt_field PKG FIELD: FIELD of the candidate version of PKG (empty if unknown).
apt_field() {
  apt-cache show --no-all-versions "$1" 2>/dev/null |
    awk -v f="$2" 'index($0, f ": ") == 1 { print substr($0, length(f) + 3); exit }' || true
}
resolve_kernel() {
  KERNEL_PKG=$KERNEL_PKG_REQ
  if [[ ! $KERNEL_PKG =~ ^linux-image-[0-9] ]]; then
    # meta package: take the versioned linux-image-* it depends on
    KERNEL_PKG=$(apt_field "$KERNEL_PKG_REQ" Depends | tr ',|' '\n\n' |
      awk '$1 ~ /^linux-image-[0-9]/ { print $1; exit }')
  fi
  [[ -n $KERNEL_PKG ]] || return 1
  KERNEL_VER=$(apt_field "$KERNEL_PKG" Version)
  [[ -n $KERNEL_VER ]]
}
resolve_busybox() {
  BUSYBOX_LOCAL=
  if [[ -x /bin/busybox && $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) == *' ok installed' ]]; then
    BUSYBOX_LOCAL=/bin/busybox
    BUSYBOX_VER=$(dpkg-query -W -f='${Version}' busybox-static)
  else
    BUSYBOX_VER=$(apt_field busybox-static Version)
  fi
  [[ -n $BUSYBOX_VER ]]
}
if ! resolve_kernel || ! resolve_busybox; then
  apt_update
  resolve_kernel || die "cannot resolve a versioned kernel package from $KERNEL_PKG_REQ"
  resolve_busybox || die "cannot find package busybox-static"
fi
SCRIPT_SHA=$(sha256sum "$SCRIPT_PATH" | cut -d' ' -f1)
STAMP="kernel=$KERNEL_PKG $KERNEL_VER
busybox-static=$BUSYBOX_VER
script-sha256=$SCRIPT_SHA"

# --- cache / lock ----------------------------------------------------------------
exec 9>"$OUTDIR/.lock"
flock 9
rm -rf "$OUTDIR"/.build.*   # left over by killed builds (we hold the lock)
if [[ ${STARTVM_GUEST_REBUILD:-0} != 1 && -f $OUTDIR/stamp && -s $OUTDIR/vmlinuz && -s $OUTDIR/initrd.gz ]] &&
   [[ $(cat "$OUTDIR/stamp") == "$STAMP" ]]; then
  log "up to date: $OUTDIR ($KERNEL_PKG $KERNEL_VER)"
  printf '%s\n' "$OUTDIR"
  exit 0
fi
WORK=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building in $WORK: $KERNEL_PKG $KERNEL_VER, busybox-static $BUSYBOX_VER"

# apt_download PKG=VER DIR: fetch a .deb without installing it.
apt_download() {
  mkdir -p "$2"
  chmod 755 "$WORK"
  # let apt's sandbox user write there (avoids the "unsandboxed" warning)
  if id _apt >/dev/null 2>&1; then chown _apt "$2"; fi
  if ! (cd "$2" && apt-get download -q "$1" >&2); then
    apt_update
    (cd "$2" && apt-get download -q "$1" >&2) || die "apt-get download $1 failed"
  fi
}

# --- kernel -------------------------------------------------------------------------
apt_download "$KERNEL_PKG=$KERNEL_VER" "$WORK/dl-kernel"
dpkg-deb -x "$WORK"/dl-kernel/*.deb "$WORK/kernel"
VMLINUZ=$(find "$WORK/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
[[ -n $VMLINUZ ]] || die "no vmlinuz in $KERNEL_PKG"
MODDIR=$(find "$WORK/kernel/lib/modules" "$WORK/kernel/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d -print -quit 2>/dev/null || true)
[[ -n $MODDIR ]] || die "no lib/modules/<version> in $KERNEL_PKG"
KVER=$(basename "$MODDIR")

# index NAME -> path of every module file (names use _ for -)
declare -A MODFILE=() BUILTIN=() STATE=()
while IFS= read -r -d '' f; do
  n=$(basename "$f"); n=${n%%.ko*}; MODFILE[${n//-/_}]=$f
done < <(find "$MODDIR" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
if [[ -f $MODDIR/modules.builtin ]]; then
  while IFS= read -r f; do
    n=$(basename "$f"); n=${n%%.ko*}; BUILTIN[${n//-/_}]=1
  done <"$MODDIR/modules.builtin"
fi

ROOT=$WORK/root
mkdir -p "$ROOT/lib/modules"

# stage_module NAME: put NAME.ko (decompressed: busybox insmod may not
# decompress) into the initramfs and print its dependencies.
stage_module() {
  local src=${MODFILE[$1]} dst=$ROOT/lib/modules/$1.ko
  case $src in
    *.ko) cp "$src" "$dst" ;;
    *.ko.xz) need xz:xz-utils; xz -dc "$src" >"$dst" ;;
    *.ko.zst) need zstd:zstd; zstd -qdc "$src" >"$dst" ;;
    *.ko.gz) gzip -dc "$src" >"$dst" ;;
  esac
  # the .modinfo section holds NUL-terminated key=value strings (what modinfo reads)
  tr '\0' '\n' <"$dst" | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d'
}
# add_module NAME LISTVAR: depth-first, dependencies before dependants.
add_module() {
  local m=${1//-/_} list=$2 d deps
  case ${STATE[$m]:-} in
    done) return 0 ;;
    visiting) die "module dependency cycle at $m" ;;
  esac
  if [[ -z ${MODFILE[$m]:-} ]]; then
    [[ -n ${BUILTIN[$m]:-} ]] || die "module $m not found in $KERNEL_PKG"
    STATE[$m]=done   # built into the kernel
    return 0
  fi
  STATE[$m]=visiting
  deps=$(stage_module "$m")
  for d in $deps; do add_module "$d" "$list"; done
  STATE[$m]=done
  eval "$list+=(\"\$m\")"
}
NET_ORDER=() LATE_ORDER=()
for m in "${NET_MODULES[@]}"; do add_module "$m" NET_ORDER; done
for m in "${LATE_MODULES[@]}"; do
  if [[ -n ${MODFILE[$m]:-} || -n ${BUILTIN[$m]:-} ]]; then add_module "$m" LATE_ORDER
  else log "warning: optional module $m not found; ACPI power button will not work"; fi
done
log "kernel $KVER; modules: ${NET_ORDER[*]} | late: ${LATE_ORDER[*]:-}"

# --- busybox --------------------------------------------------------------------------
mkdir -p "$ROOT/bin"
if [[ -n $BUSYBOX_LOCAL ]]; then
  cp "$BUSYBOX_LOCAL" "$ROOT/bin/busybox"
else
  log "busybox-static is not installed: extracting it from its package"
  apt_download "busybox-static=$BUSYBOX_VER" "$WORK/dl-busybox"
  dpkg-deb -x "$WORK"/dl-busybox/*.deb "$WORK/busybox"
  cp "$WORK/busybox/bin/busybox" "$ROOT/bin/busybox" 2>/dev/null ||
    cp "$WORK/busybox/usr/bin/busybox" "$ROOT/bin/busybox" ||
    die "no busybox binary in busybox-static"
fi
chmod 755 "$ROOT/bin/busybox"
# applet symlinks (the binary is static, so it runs here too)
while IFS= read -r applet; do
  applet=${applet#/}
  [[ -n $applet && $applet != bin/busybox ]] || continue
  mkdir -p "$ROOT/$(dirname "$applet")"
  [[ -e $ROOT/$applet ]] || ln -s /bin/busybox "$ROOT/$applet"
done < <("$ROOT/bin/busybox" --list-full)
[[ -L $ROOT/bin/sh ]] || ln -s /bin/busybox "$ROOT/bin/sh"

# --- rootfs -----------------------------------------------------------------------------
mkdir -p "$ROOT"/{dev,proc,sys,run,tmp,www,etc/guest,etc/acpi/PWRF}
chmod 1777 "$ROOT/tmp"
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || log "warning: mknod dev/console failed; /init reopens it"
printf '%s\n' "${NET_ORDER[@]}" >"$ROOT/etc/guest/modules"
printf '%s\n' "${LATE_ORDER[@]}" >"$ROOT/etc/guest/modules-late"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\n' >"$ROOT/etc/group"
: >"$ROOT/etc/resolv.conf"
printf 'startvm-guest\n' >"$ROOT/etc/hostname"
# busybox acpid runs /etc/acpi/PWRF/00000080 on the power button;
# busybox poweroff signals PID 1 (SIGUSR2), which /init turns into a clean poweroff
printf '#!/bin/sh\nexec poweroff\n' >"$ROOT/etc/acpi/PWRF/00000080"
chmod 755 "$ROOT/etc/acpi/PWRF/00000080"

cat >"$ROOT/init" <<'INIT'
#!/bin/sh
# startvm test guest: PID 1 (busybox sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# end the line the firmware/kernel left on the console (terminal reset
# sequences without a newline), so every STARTVM-GUEST line starts a line
echo
mkdir -p /run/dhcp /dev/pts
hostname "$(cat /etc/hostname)"

say() { echo "STARTVM-GUEST $*"; }

shutdown_now() {
	say shutdown
	kill -TERM -1 2>/dev/null
	sync
	umount -a -r 2>/dev/null
	if [ "$1" = reboot ]; then reboot -f; else poweroff -f; fi
}
# busybox halt/poweroff/reboot signal PID 1 with USR1/USR2/TERM
trap 'shutdown_now poweroff' USR1 USR2
trap 'shutdown_now reboot' TERM

for m in $(cat /etc/guest/modules); do
	insmod "/lib/modules/$m.ko" || echo "startvm-guest: insmod $m failed"
done
ip link set lo up

# NICs: eth0, eth1, ... in numeric order
nics() { ls /sys/class/net | sed -n 's/^eth\([0-9][0-9]*\)$/\1/p' | sort -n | sed 's/^/eth/'; }
i=0
while [ -z "$(nics)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done

first_ip=
for nic in $(nics); do
	ip link set "$nic" up
	rm -f "/run/dhcp/$nic.line" "/run/dhcp/$nic.ip"
	if udhcpc -i "$nic" -s /udhcpc.script -f -q -n -t 10 -T 1 \
		-O mtu -O search -O staticroutes -O hostname -O domain -O dns \
		>"/run/dhcp/$nic.log" 2>&1 && [ -s "/run/dhcp/$nic.line" ]; then
		say "$(cat "/run/dhcp/$nic.line")"
		[ -n "$first_ip" ] || first_ip=$(cat "/run/dhcp/$nic.ip")
	else
		sed "s/^/startvm-guest: $nic: /" "/run/dhcp/$nic.log"
		say "iface=$nic dhcp=failed"
	fi
done

echo "startvm-guest hostname=$(hostname) ip=$first_ip" >/www/index.html
httpd -p 80 -h /www

# ACPI power button -> busybox acpid -> poweroff -> SIGUSR2 -> shutdown_now. Before "ready": a
# system_powerdown sent as soon as the guest says ready must find the button and acpid there.
for m in $(cat /etc/guest/modules-late); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
acpid -c /etc/acpi -l /run/acpid.log 2>/dev/null
say ready

# stay alive; "wait" lets the traps run as soon as a signal arrives
while :; do
	sleep 3600 &
	wait $!
done
INIT

cat >"$ROOT/udhcpc.script" <<'DHCP'
#!/bin/sh
# udhcpc event script: $1 is deconfig|bound|renew|leasefail|nak; the lease is
# in $interface $ip $subnet $mask $router $dns $domain $search $hostname $mtu
# $staticroutes $broadcast. Writes /run/dhcp/$interface.line for /init.
RUN=/run/dhcp
mkdir -p "$RUN"

ip2int() { local IFS=.; set -- $1; echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4)); }
mask2prefix() {
	local n p=0 b=31
	n=$(ip2int "$1")
	while [ $b -ge 0 ] && [ $(((n >> b) & 1)) -eq 1 ]; do p=$((p + 1)); b=$((b - 1)); done
	echo $p
}
# in_subnet ADDR: is ADDR inside $ip/$prefix?
in_subnet() {
	local m=0
	[ "$prefix" -gt 0 ] && m=$(((0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF))
	[ $(($(ip2int "$1") & m)) -eq $(($(ip2int "$ip") & m)) ]
}
# single value / comma list, without spaces or odd characters
word() { printf '%s' "$1" | tr -cd 'A-Za-z0-9._:/-'; }
list() {
	local out= x
	for x in $1; do x=$(word "$x"); [ -n "$x" ] && out="$out,$x"; done
	echo "${out#,}"
}

# gw_route DEST/PREFIX GATEWAY
gw_route() {
	local dest=$1 gw=$2
	if [ "$gw" = 0.0.0.0 ]; then
		ip route replace "$dest" dev "$interface"
	else
		# gateway outside the subnet (e.g. a /32 with 169.254.1.1): on-link host route first
		in_subnet "$gw" || ip route replace "$gw/32" dev "$interface"
		if [ "$dest" = 0.0.0.0/0 ]; then
			# first NIC's default route wins
			ip route add default via "$gw" dev "$interface" 2>/dev/null ||
				echo "default route via $gw not added (one exists)"
		else
			ip route replace "$dest" via "$gw" dev "$interface"
		fi
	fi
	routes="$routes,${dest}via$gw"
}

write_resolv() {
	local f s= d
	for f in "$RUN"/*.search; do [ -f "$f" ] && s="$s $(cat "$f")"; done
	{
		[ -n "${s# }" ] && echo "search${s}"
		for f in "$RUN"/*.dns; do [ -f "$f" ] && for d in $(cat "$f"); do echo "nameserver $d"; done; done
	} >/etc/resolv.conf.new
	mv /etc/resolv.conf.new /etc/resolv.conf
}

case "$1" in
deconfig)
	ip -4 addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	if [ -n "$subnet" ]; then prefix=$(mask2prefix "$subnet"); else prefix=${mask:-32}; fi
	[ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/$prefix" ${broadcast:+broadcast "$broadcast"} dev "$interface"
	routes=
	if [ -n "$staticroutes" ]; then
		# option 121 replaces the router option (and carries the default route)
		set -- $staticroutes
		while [ $# -ge 2 ]; do gw_route "$1" "$2"; shift 2; done
	elif [ -n "$router" ]; then
		set -- $router
		gw_route 0.0.0.0/0 "$1"
	fi
	echo "$dns" >"$RUN/$interface.dns"
	if [ -n "$search" ]; then echo "$search" >"$RUN/$interface.search"
	elif [ -n "$domain" ]; then echo "$domain" >"$RUN/$interface.search"
	else rm -f "$RUN/$interface.search"; fi
	write_resolv
	[ -n "$hostname" ] && hostname "$(word "$hostname")"
	mac=$(cat "/sys/class/net/$interface/address")
	echo "$ip" >"$RUN/$interface.ip"
	echo "iface=$interface mac=$mac ip=$(word "$ip") prefix=$prefix router=$(list "$router") mtu=$(word "$mtu") dns=$(list "$dns") search=$(list "$search") domain=$(word "$domain") hostname=$(word "$hostname") routes=${routes#,}" >"$RUN/$interface.line.new"
	mv "$RUN/$interface.line.new" "$RUN/$interface.line"
	;;
leasefail | nak)
	echo "udhcpc: $1 on $interface"
	;;
esac
exit 0
DHCP
chmod 755 "$ROOT/init" "$ROOT/udhcpc.script"

# --- pack --------------------------------------------------------------------------------
cp "$VMLINUZ" "$WORK/vmlinuz"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 -n >"$WORK/initrd.gz"
printf '%s\n' "$STAMP" >"$WORK/stamp"
rm -f "$OUTDIR/stamp"
mv -f "$WORK/vmlinuz" "$OUTDIR/vmlinuz"
mv -f "$WORK/initrd.gz" "$OUTDIR/initrd.gz"
mv -f "$WORK/stamp" "$OUTDIR/stamp"
log "built $OUTDIR: vmlinuz $(stat -c %s "$OUTDIR/vmlinuz") bytes, initrd.gz $(stat -c %s "$OUTDIR/initrd.gz") bytes"
printf '%s\n' "$OUTDIR"
