#!/usr/bin/env bash
# Runs the startvm image as a VM container. Build the image first, from the repository root:
#   docker build -t startvm .
#
# The flags:
#   --device /dev/kvm        KVM; without it accel: auto falls back to TCG (slow, with a warning)
#   --device /dev/net/tun    the VM's tap device
#                            (add --device /dev/vhost-net for faster virtio networking)
#   --cap-add NET_ADMIN      bridge, tap, addresses and routes in the container's network namespace
#   -v ./profile.yaml:/etc/startvm/profile.yaml:ro
#                            your profile; without it the image's built-in default is used
#   -v ./disks:/var/lib/startvm
#                            disk images (the profile boots disks/disk.qcow2); a named volume works too
#   -p 2222:22               the VM owns the container's address, so this reaches the guest's sshd:
#                            ssh -p 2222 debian@localhost
#   -e STARTVM_MEMORY=2048   environment overrides beat the profile
#                            (docker run --rm startvm env lists them; NO_DHCP=true switches DHCP off)
#
# The serial console is the container's output: docker logs -f startvm-vm. For an interactive
# console add -it and use docker attach (Ctrl-P Ctrl-Q detaches; Ctrl-C there stops QEMU).
# Stop the guest cleanly with ./stop.sh; a plain docker stop is a power cut for the guest.
set -euo pipefail
cd "$(dirname "$0")"
image=${IMAGE:-startvm}
name=${NAME:-startvm-vm}

if [ ! -f disks/disk.qcow2 ]; then
  echo "put a bootable qcow2 image at $PWD/disks/disk.qcow2 first (see ../cloud-image/profile.yaml)" >&2
  exit 1
fi

docker run -d --name "$name" \
  --device /dev/kvm \
  --device /dev/net/tun \
  --cap-add NET_ADMIN \
  -v "$PWD/profile.yaml:/etc/startvm/profile.yaml:ro" \
  -v "$PWD/disks:/var/lib/startvm" \
  -p 2222:22 \
  -e STARTVM_MEMORY=2048 \
  -e STARTVM_CPUS=2 \
  "$image"
