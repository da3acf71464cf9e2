#!/bin/bash
# The benchmark's baseline: the network steps of RancherVM's original startvm script
# (image/base/startvm in rancher/vm, now rancher/old-vm), in its plain style: one command per
# step, ip/grep/awk/cut pipelines. Written for bench/run.ts, which runs it inside a container
# namespace made by the test harness; it execs $QEMU (the benchmark's stand-in) the way the
# original exec'd kvm.
#
# Differences from the original, each needed to run it here or asked for by the benchmark:
# - dnsmasq gets the config startvm writes for the same container (the issue asks for "dnsmasq
#   with the same config"; bench/handover.ts compares the two files), not the original's, which
#   served DNS on every interface. The values the original did not read (MTU, search domains) are
#   read with shell builtins, no process of their own: the script does the work of the original's
#   steps and no more. DNS forwarding for loopback resolvers is left out: the benchmark's container
#   has none, and startvm writes port=0 for it too;
# - in the seed's order: dnsmasq starts once the bridge has its address (that config binds to
#   br0), where the original started it before making the bridge;
# - dnsmasq's config, pid, lease and log files go to $RUN_DIR/dnsmasq, as startvm's go to its run
#   directory (the original wrote /etc/dnsmasq.conf and used the default /var paths; here /etc and
#   /var belong to the machine, not to a container);
# - `ip link add ... type bridge` / `ip link set ... master` instead of brctl addbr/addif
#   (bridge-utils is gone from current distributions; same netlink requests);
# - the tap is created here: the original left it to QEMU's bridge helper (-netdev bridge), and
#   the stand-in is no QEMU. startvm creates its tap before the hand-over too, so both hand over
#   the same namespace: br0 with eth0 and tap0 on it, the address gone from eth0, dnsmasq serving.
# What it leaves out, as the original did: the container's routes are not put back on the bridge,
# no MTU is copied, no rollback.
#
# Environment: QEMU (program to exec), RUN_DIR (private directory), KERNEL, INITRD (for the argv).

: ${QEMU:?QEMU must name the program to exec}
: ${RUN_DIR:?RUN_DIR must name a private directory}

atoi()
{
	#Returns the integer representation of an IP arg, passed in ascii dotted-decimal notation (x.x.x.x)
	IP=$1; IPNUM=0
	for (( i=0 ; i<4 ; ++i )); do
	((IPNUM+=${IP%%.*}*$((256**$((3-${i}))))))
	IP=${IP#*.}
	done
	echo $IPNUM
}

itoa()
{
	#returns the dotted-decimal ascii form of an IP arg passed in integer format
	echo -n $(($(($(($((${1}/256))/256))/256))%256)).
	echo -n $(($(($((${1}/256))/256))%256)).
	echo -n $(($((${1}/256))%256)).
	echo $((${1}%256))
}

cidr2mask() {
  local i mask=""
  local full_octets=$(($1/8))
  local partial_octet=$(($1%8))

  for ((i=0;i<4;i+=1)); do
    if [ $i -lt $full_octets ]; then
      mask+=255
    elif [ $i -eq $full_octets ]; then
      mask+=$((256 - 2**(8-$partial_octet)))
    else
      mask+=0
    fi
    test $i -lt 3 && mask+=.
  done

  echo $mask
}


IFACE=eth0
BRIDGE_IFACE=br0
TAP_IFACE=tap0

# 1. Capture the container's network configuration.
MAC=`ip addr show $IFACE | grep ether | sed -e 's/^[[:space:]]*//g' -e 's/[[:space:]]*\$//g' | cut -f2 -d ' '`
IP=`ip addr show dev $IFACE | grep "inet " | awk '{print $2}' | cut -f1 -d/`
CIDR=`ip addr show dev $IFACE | grep "inet " | awk '{print $2}' | cut -f2 -d/`
NETMASK=`cidr2mask $CIDR`
GATEWAY=`ip route get 8.8.8.8 | grep via | cut -f3 -d ' '`
NAMESERVER=( `grep nameserver /etc/resolv.conf | grep -v "#" | cut -f2 -d ' '` )
NAMESERVERS=`echo ${NAMESERVER[*]} | sed "s/ /,/g"`
read -r MTU < /sys/class/net/$IFACE/mtu
SEARCH=
while read -r KEY VALUE; do
    if [ "$KEY" = search ]; then SEARCH=$VALUE; fi
done < /etc/resolv.conf
SEARCH=${SEARCH// /,}
DOMAIN=${SEARCH%%,*}

# 2. A new MAC for the interface and a new address for the bridge.
hexchars="0123456789ABCDEF"
end=$( for i in {1..8} ; do echo -n ${hexchars:$(( $RANDOM % 16 )):1} ; done | sed -e 's/\(..\)/:\1/g' )
NEWMAC=`echo 06:FE$end`

let "NEWCIDR=$CIDR-1"

i=`atoi $IP`
let "i=$i^(1<<$CIDR)"
NEWIP=`itoa i`

# 3. Move the interface onto a bridge with the VM's tap, the address off the interface.
ip link set dev $IFACE down
ip link set $IFACE address $NEWMAC
ip addr del $IP/$CIDR dev $IFACE

ip link add $BRIDGE_IFACE type bridge
ip link set $IFACE master $BRIDGE_IFACE
ip tuntap add dev $TAP_IFACE mode tap
ip link set $TAP_IFACE master $BRIDGE_IFACE
ip link set dev $TAP_IFACE up
ip link set dev $IFACE up
ip link set dev $BRIDGE_IFACE up
# 4. Give the bridge its new address.
if [ -z $NO_DHCP ]; then
    ip addr add $NEWIP/$NEWCIDR dev $BRIDGE_IFACE
fi

if [[ $? -ne 0 ]]; then
    echo "Failed to bring up network bridge"
    exit 4
fi

# 5. Write the dnsmasq config (startvm's, for this container) and start dnsmasq: it forks into the
# background once serving.
mkdir -p $RUN_DIR/dnsmasq
cat > $RUN_DIR/dnsmasq/dnsmasq.conf << EOF
bind-interfaces
interface=$BRIDGE_IFACE
except-interface=lo
port=0
dhcp-authoritative
dhcp-ignore=tag:!known
dhcp-leasefile=$RUN_DIR/dnsmasq/leases
pid-file=$RUN_DIR/dnsmasq/dnsmasq.pid
log-facility=$RUN_DIR/dnsmasq/dnsmasq.log
shared-network=$BRIDGE_IFACE,$IP
dhcp-range=tag:nic0,$IP,static,$NETMASK,infinite
dhcp-host=$MAC,set:nic0,$IP,$HOSTNAME,infinite
dhcp-option=tag:nic0,option:router,$GATEWAY
dhcp-option=tag:nic0,option:mtu,$MTU
dhcp-option=tag:nic0,option:dns-server,$NAMESERVERS
dhcp-option=tag:nic0,option:domain-name,$DOMAIN
dhcp-option=tag:nic0,option:domain-search,$SEARCH
EOF

if [ -z $NO_DHCP ]; then
    dnsmasq --conf-file=$RUN_DIR/dnsmasq/dnsmasq.conf
fi

# 6. Exec the VM as the container's main process.
exec $QEMU -enable-kvm -m 256 -kernel $KERNEL -initrd $INITRD -append "console=ttyS0 panic=-1 quiet" \
  -netdev tap,id=net0,ifname=$TAP_IFACE,script=no,downscript=no -device virtio-net-pci,netdev=net0,mac=$MAC
