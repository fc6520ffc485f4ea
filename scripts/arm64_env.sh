#!/usr/bin/env bash
# Run a command on ARM64 (Raspberry Pi OS style) code under qemu-user, from Debian packages and PyPI wheels only.
#   scripts/arm64_env.sh [--cpu cortex-a76|cortex-a72] -- python3 runner.py selftest
# Sets up once into $EDGEEMO_ARM64_DIR (default ~/.cache/edgeemo/arm64): an arm64 sysroot with Debian's
# python3.11 (private apt state: the host's package database is not touched), a fake ARM /proc/cpuinfo
# (qemu 7.2 shows the host's x86 one and LiteRT's CPU detection then crashes), and aarch64 wheels of
# ai-edge-litert, numpy, opencv-python-headless and cryptography (the rpi bundles' requirements). Emulated time is not Pi latency: never report it as such.
set -euo pipefail
CPU=cortex-a76
if [ "${1:-}" = "--cpu" ]; then CPU=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift
ROOT=${EDGEEMO_ARM64_DIR:-$HOME/.cache/edgeemo/arm64}
SYSROOT=$ROOT/sysroot SITE=$ROOT/site PRIV=$ROOT/apt
PY=${PYTHON:-python3}

if ! command -v qemu-aarch64-static >/dev/null; then
  apt-get install -y -q qemu-user-static >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q qemu-user-static >/dev/null; }
fi
if [ ! -x "$SYSROOT/usr/bin/python3.11" ]; then
  mkdir -p "$PRIV/lists/partial" "$PRIV/archives/partial" "$PRIV/etc" "$SYSROOT"
  : > "$PRIV/status"
  cat > "$PRIV/etc/sources.list" <<SRC
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
SRC
  APT=(-o Dir::State="$PRIV" -o Dir::State::status="$PRIV/status" -o Dir::Cache="$PRIV" -o Dir::Etc::SourceList="$PRIV/etc/sources.list"
       -o Dir::Etc::SourceParts=/dev/null -o APT::Architecture=arm64 -o APT::Architectures=arm64 -o Debug::NoLocking=1)
  apt-get "${APT[@]}" update -q >/dev/null
  apt-get "${APT[@]}" install -y -q --download-only python3.11 libstdc++6 libgcc-s1 >/dev/null
  for deb in "$PRIV"/archives/*.deb; do dpkg -x "$deb" "$SYSROOT"; done
fi
mkdir -p "$SYSROOT/proc"
PART=$([ "$CPU" = cortex-a72 ] && echo 0xd08 || echo 0xd0b)
: > "$SYSROOT/proc/cpuinfo"
for i in 0 1 2 3; do
  printf 'processor\t: %s\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: %s\nCPU revision\t: 1\n\n' "$i" "$PART" >> "$SYSROOT/proc/cpuinfo"
done
if [ ! -d "$SITE/ai_edge_litert" ] || [ ! -d "$SITE/cv2" ] || [ ! -d "$SITE/cryptography" ]; then
  PLATFORMS=(--platform manylinux2014_aarch64)
  for n in $(seq 17 36); do PLATFORMS+=(--platform "manylinux_2_${n}_aarch64"); done
  "$PY" -m pip install -q --target "$SITE" --only-binary=:all: --python-version 3.11 --implementation cp "${PLATFORMS[@]}" \
    ai-edge-litert==2.3.0 numpy==2.4.6 opencv-python-headless==4.11.0.86 cryptography==50.0.2 >"$ROOT/pip.log" 2>&1 || { cat "$ROOT/pip.log" >&2; exit 1; }
fi
export QEMU_CPU=$CPU PYTHONPATH=$SITE
exec qemu-aarch64-static -L "$SYSROOT" "$SYSROOT/usr/bin/python3.11" "$@"
