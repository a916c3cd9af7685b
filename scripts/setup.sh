#!/usr/bin/env bash
# Installs everything saker needs to build, test and benchmark on Debian 12. Idempotent; apt-get only.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libsimdjson-dev libyaml-cpp-dev libboost-dev libssl-dev zlib1g-dev
  libcurl4-openssl-dev librdkafka-dev libmaxminddb-dev libre2-dev
  libcli11-dev libspdlog-dev libfmt-dev libldap-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev libxxhash-dev libjemalloc-dev rsyslog-openssl
  rsyslog wrk curl openssl python3 procps time bc libivykis0 libnet1 libwrap0
  slapd ldap-utils
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A container without systemd must not start the packaged rsyslog: tests start their own.
if [ ! -e /usr/sbin/policy-rc.d ] && [ ! -d /run/systemd/system ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
