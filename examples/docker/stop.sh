#!/usr/bin/env bash
# Stops a VM container cleanly: presses the guest's ACPI power button through QEMU's QMP socket
# (/run/startvm/qmp.sock in the container), waits for the guest to power off (QEMU, the container's
# PID 1, then exits and the container stops), and only then falls back to docker stop. SIGTERM alone
# makes QEMU quit at once: a power cut for the guest (see STOPSIGNAL in the Dockerfile).
#   NAME=startvm-vm TIMEOUT=60 ./stop.sh
set -euo pipefail
name=${NAME:-startvm-vm}
timeout=${TIMEOUT:-60}

# startvm powerdown talks QMP and waits for QEMU to exit. When QEMU exits the container stops and
# docker exec ends with it, hence the "|| true".
docker exec "$name" node /opt/startvm/bin/startvm powerdown --timeout "$timeout" || true
docker stop "$name" >/dev/null
