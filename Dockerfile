# syntax=docker/dockerfile:1
# The startvm image: a VM container. startvm hands the container's network identity (address, MAC,
# routes, DNS, hostname) to a QEMU guest and then execs QEMU, which becomes the container's PID 1.
#
# Build, from the repository root:   docker build -t startvm .
# Run (examples/docker/run.sh explains every flag):
#   docker run -d --name vm --device /dev/kvm --device /dev/net/tun --cap-add NET_ADMIN \
#     -v ./profile.yaml:/etc/startvm/profile.yaml:ro -v ./disks:/var/lib/startvm -p 2222:22 startvm
#
# The profile: mount yours at /etc/startvm/profile.yaml (read-only is fine). Without one, the built-in
# /opt/startvm/profiles/default.yaml boots /var/lib/startvm/disk.qcow2 on every interface.
# STARTVM_PROFILE names another path; STARTVM_MEMORY, STARTVM_CPUS, NO_DHCP, ... override the
# profile (`docker run --rm startvm env` lists them).

# Node.js 22.15 is the first release with process.execve, which the exec-kvm stage needs to replace
# startvm with QEMU (same PID, nothing of Node left). Pinned to the exact Node the tests run with
# (package.json devDependencies "node"); bump both together. Both stages use the same base.
ARG NODE_VERSION=22.23.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /opt/startvm
COPY package.json package-lock.json ./
COPY scripts/build.ts scripts/build-outputs.ts scripts/
COPY schemas/ schemas/
COPY templates/ templates/
COPY src/ src/
# npm ci installs exactly the lockfile, dev dependencies included (esbuild; the pinned `node`, whose
# install script fetches a Node binary through the npm registry), and runs "prepare", which already
# builds. The explicit build keeps the step visible; `test -s` fails the image if no bundle came out.
RUN npm ci && npm run build && test -s dist/startvm.cjs

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# The programs the stages run (src/doctor/requirements.ts): ip (capture, bridge, readdress),
# dnsmasq (dhcp), qemu-system-x86_64 with its SeaBIOS and iPXE option ROMs (exec-kvm), arping
# (readdress mode "subnet"). Recommends stay out: no GUI, no UEFI, no qemu-img.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      iproute2 \
      dnsmasq-base \
      qemu-system-x86 \
      iputils-arping \
 && rm -rf /var/lib/apt/lists/*

# Only the built app: the bundle has every runtime dependency inside, so no node_modules.
WORKDIR /opt/startvm
COPY package.json ./
COPY bin/ bin/
COPY profiles/ profiles/
COPY templates/ templates/
COPY schemas/ schemas/
COPY --from=build /opt/startvm/dist/ dist/
# Trains the code cache (/opt/startvm/dist/startvm.cjs.codecache), so that a container's start does
# not compile startvm's code: --cache runs a start of the profile on a simulated network (nothing is
# changed) and keeps what V8 compiled. The placeholder disk lets the simulation reach exec-kvm, whose
# checks want the profile's disk to exist; it is gone before the layer is written. The cache holds
# startvm's code and the YAML parse of this profile: a start with a mounted profile takes the code
# all the same and parses its own YAML (an image that bakes in its profile trains on that one).
RUN mkdir -p /var/lib/startvm && touch /var/lib/startvm/disk.qcow2 \
 && node /opt/startvm/bin/startvm lint --cache /opt/startvm/profiles/default.yaml \
 && rm /var/lib/startvm/disk.qcow2

LABEL org.opencontainers.image.title="startvm" \
      org.opencontainers.image.description="VM container: a QEMU guest that takes over the container's network identity" \
      org.opencontainers.image.licenses="Apache-2.0"

# Disk images (and kernels, ISOs) live here; mount a volume or a host folder.
VOLUME ["/var/lib/startvm"]

# SIGTERM, stated on purpose. Before the hand-over, startvm rolls everything back on SIGTERM/SIGINT.
# After it, QEMU is PID 1 and quits at once on SIGTERM ("terminating on signal 15"): the guest is
# switched off without an ACPI shutdown, but QEMU flushes and closes its disk images. Any other
# signal would be worse: QEMU has no handler, PID 1 ignores it, and the runtime SIGKILLs QEMU after
# the grace period with its image caches unflushed. For a clean guest shutdown, ask the guest first
# through QMP (<run dir>/qmp.sock, system_powerdown): examples/docker/stop.sh, or the preStop hook in
# examples/kubernetes/deployment.yaml. The guest powers off and QEMU exits by itself.
STOPSIGNAL SIGTERM

# Runs as root: the stages need CAP_NET_ADMIN (docker run --cap-add NET_ADMIN), /dev/net/tun and
# /dev/kvm (--device). The profile is read from /etc/startvm/profile.yaml when mounted.
# --no-rehash-snapshot: ~4 ms off every start, at the price of a fixed string-hash seed (bin/startvm,
# src/cli/hash-seed.ts); npm run bench starts startvm with the options given here.
ENTRYPOINT ["node", "--no-rehash-snapshot", "/opt/startvm/bin/startvm"]
CMD ["run"]
