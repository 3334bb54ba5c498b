#!/usr/bin/env bash
# Install what tests/cluster needs from Debian's packages, when it is missing:
# slurm-wlm (slurmctld, slurmd, sbatch, squeue ...) and munge (authentication).
# As root; waits for another apt/dpkg run to release its lock instead of failing.
set -euo pipefail
missing=()
for tool in slurmctld slurmd sbatch squeue scontrol; do
    command -v "$tool" >/dev/null 2>&1 || { missing+=(slurm-wlm); break; }
done
command -v munged >/dev/null 2>&1 || missing+=(munge)
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "tests/cluster needs ${missing[*]} (Debian packages); run this script as root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -qq
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
