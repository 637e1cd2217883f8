# syntax=docker/dockerfile:1
# The csi-hostpath driver image: built with NativeAOT in the SDK image, run from a slim Debian with no .NET at all.
# Build: docker build -t csi-hostpath:0.1.0 .   (deploy/kind/up.sh does this; the tag is the csproj's <Version>)

# .NET 10's SDK image is Ubuntu 24.04; NativeAOT links the driver with the platform toolchain, hence clang and zlib.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project files alone, so that a source change reuses the restored layer.
COPY Directory.Build.props Directory.Packages.props ./
COPY proto/ proto/
COPY src/CsiHostPath/CsiHostPath.csproj src/CsiHostPath/
RUN dotnet restore src/CsiHostPath -r linux-x64 -p:PublishAot=true
COPY src/CsiHostPath/ src/CsiHostPath/
RUN dotnet publish src/CsiHostPath -c Release -r linux-x64 -p:PublishAot=true --no-restore -o /out

# A NativeAOT binary needs only glibc, so no .NET runtime image: .NET 10 publishes no Debian runtime-deps image,
# and Debian 13's glibc (2.41) is newer than the build image's (2.39), which a binary linked there requires.
FROM debian:trixie-slim
# The driver mounts and attaches loop devices with syscalls and ioctls; these are the programs it runs for
# image-backed volumes: mkfs.ext4 and resize2fs (e2fsprogs), mkfs.xfs and xfs_growfs (xfsprogs). util-linux is Essential
# in Debian and already in the base; it is named so that a change of base cannot drop it unnoticed.
# Nothing else: no shell utilities beyond the base image's, no compiler, no package caches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends util-linux e2fsprogs xfsprogs \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*
COPY --from=build /out/csi-hostpath /usr/local/bin/csi-hostpath
LABEL org.opencontainers.image.title="csi-hostpath" \
      org.opencontainers.image.description="CSI driver that provisions node-local directories as Kubernetes persistent volumes" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:trixie-slim"
# Runs as root: mount(2) and umount2(2) need CAP_SYS_ADMIN, and the DaemonSet runs the container privileged.
ENTRYPOINT ["/usr/local/bin/csi-hostpath"]
