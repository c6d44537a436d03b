#!/usr/bin/env bash
# Installs what WebGPU needs on a Linux machine without a GPU: Mesa's lavapipe Vulkan driver
# (software rendering on the CPU), new enough for Dawn, which the `webgpu` npm package uses.
# Debian bookworm's own Mesa (22.x) is too old; Mesa 25 comes from bookworm-backports.
# Idempotent: does nothing when a new enough lavapipe is already installed.
set -euo pipefail

have_lavapipe() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || return 1
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge 24
}

if have_lavapipe; then
  echo "setup-webgpu: lavapipe (mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)) is installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-webgpu: this script knows Debian/Ubuntu (apt); install a Vulkan driver (Mesa >= 24 lavapipe, or your GPU's) by hand" >&2
  exit 1
fi

. /etc/os-release
if [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$list" >/dev/null
  fi
  $SUDO apt-get update -o Acquire::Retries=3
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -o Acquire::Retries=3 -t bookworm-backports libvulkan1 mesa-vulkan-drivers
else
  $SUDO apt-get update -o Acquire::Retries=3
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -o Acquire::Retries=3 libvulkan1 mesa-vulkan-drivers
fi

have_lavapipe || { echo "setup-webgpu: lavapipe is still missing or too old after installing" >&2; exit 1; }
echo "setup-webgpu: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
