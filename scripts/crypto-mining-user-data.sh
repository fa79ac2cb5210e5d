#!/usr/bin/env bash
# crypto-mining-user-data.sh: user data of the instances that
# simulate-crypto-mining.sh launches (passed as --user-data file://...; it
# runs once, as root, at first boot through cloud-init).
#
# What it does: installs a DNS "beacon", /usr/local/bin/ir-workshop-dns-beacon,
# and runs it every minute: from cron when cronie can be installed (the
# persistence a miner would use), else from a systemd timer. Each run
# resolves, through the VPC's Amazon-provided DNS resolver:
#   - well-known cryptocurrency mining pool domains, as a miner looking up its
#     pool would;
#   - a burst of long random subdomains of example.com (a domain reserved for
#     documentation), the shape of data exfiltration over DNS.
# In the first of its rounds, it also opens one TCP connection to the first
# IPv4 address of each pool that resolved, on a Stratum port, and closes it
# at once: a handshake and a close, no byte of payload, so no login, no
# work and no share. At most one connection a pool a minute, all side by
# side, each given up after 3 seconds. Set connect_to_pools=false in the
# beacon below (before launching) for lookups only.
# It downloads, installs and runs no miner and uses almost no CPU.
#
# What GuardDuty should show: from the DNS logs it reads on its own,
# CryptoCurrency:EC2/BitcoinTool.B!DNS for the instance, and possibly
# Trojan:EC2/DNSDataExfiltration; from the flow logs it reads on its own,
# when a pool address is on its threat list, CryptoCurrency:EC2/BitcoinTool.B
# (connect_to_pools=false: none). The workshop's VPC Flow Logs show each
# connection attempt to a pool address and Stratum port. CloudTrail shows
# nothing of the queries or connections themselves (the Route 53 Resolver
# query logs of WorkshopStack show the queries).
#
# Undo: terminate the instance (scripts/undo-crypto-mining.sh).
#
# It acts only where cloud-init runs it, from /var/lib/cloud/, and without
# arguments. Anywhere else (by hand, on a workstation, in CloudShell, with
# -h) it would install the beacon and its persistence on that machine, so it
# says what it is and stops, changing nothing.
set -euo pipefail

if [[ "${1:-}" == -h ]]; then
  printf '%s\n' "Usage: none: the user data of the instances that simulate-crypto-mining.sh" \
    "launches. At an instance's first boot, cloud-init runs it as root: it installs" \
    "a DNS beacon that looks up mining pools every minute. It does nothing anywhere" \
    "else; run simulate-crypto-mining.sh instead."
  exit 0
fi
if (($# > 0)) || [[ "$0" != /var/lib/cloud/* ]]; then
  printf '%s\n' "crypto-mining-user-data.sh: not run by cloud-init at an instance's first boot;" \
    "nothing was installed. It is the user data of the instances that" \
    "simulate-crypto-mining.sh launches (-h says more)." >&2
  exit 2
fi

readonly beacon=/usr/local/bin/ir-workshop-dns-beacon

install -d -m 0755 /usr/local/bin
cat >"$beacon" <<'BEACON'
#!/usr/bin/env bash
# ir-workshop-dns-beacon: incident response workshop simulation. Resolves
# mining pool domains and random subdomains, and opens and at once closes a
# connection to each pool, so that GuardDuty sees crypto mining and DNS
# exfiltration patterns. Sends nothing to a pool; mines nothing.
set -uo pipefail

# true: connect to the pools and close (no payload); false: lookups only.
connect_to_pools=true
# Ports that mining pools listen on for Stratum; pool N gets port N modulo
# the list.
stratum_ports=(3333 4444 14444)

pools=(
  pool.minexmr.com
  xmr.pool.minergate.com
  pool.minergate.com
  pool.supportxmr.com
  xmr-eu1.nanopool.org
  xmr.nanopool.org
  gulf.moneroocean.stream
  pool.hashvault.pro
  xmrpool.eu
  monerohash.com
  stratum.antpool.com
  btc.f2pool.com
  donate.v2.xmrig.com
)

# resolve NAME: one lookup through the system resolver; failures are expected
# (NXDOMAIN for the random names) and ignored.
resolve() {
  timeout 5 getent ahosts "$1" >/dev/null 2>&1 || true
}

# first_address NAME: the same lookup, printing the first IPv4 address of
# the answer, if any.
first_address() {
  timeout 5 getent ahosts "$1" 2>/dev/null | awk '$1 ~ /^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$/ { print $1; exit }' || true
}

# probe ADDRESS PORT: bash opens a TCP connection when it opens the
# descriptor and closes it when the shell exits: a handshake and a close,
# nothing sent. Given up after 3 seconds; failures are ignored.
probe() {
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' probe "$1" "$2" >/dev/null 2>&1 || true
}

# random_label LENGTH: LENGTH/2 random bytes as hex, one DNS label (at most 63).
random_label() {
  od -An -N"$(($1 / 2))" -tx1 /dev/urandom | tr -d ' \n'
}

for round in 1 2 3; do
  connections=0
  for i in "${!pools[@]}"; do
    if ((round == 1)) && [[ "$connect_to_pools" == true ]]; then
      address="$(first_address "${pools[i]}")"
      if [[ -n "$address" ]]; then
        probe "$address" "${stratum_ports[i % ${#stratum_ports[@]}]}" &
        connections=$((connections + 1))
      fi
    else
      resolve "${pools[i]}"
    fi
  done
  wait
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    resolve "$(random_label 62).$(random_label 40).$(random_label 20).example.com"
  done
  logger -t ir-workshop-dns-beacon "round $round: resolved ${#pools[@]} mining pool names and 10 random subdomains; attempted $connections connections to pools (connect and close)"
  if ((round < 3)); then
    sleep 15
  fi
done
BEACON
chmod 0755 "$beacon"

# Persistence: cron, as a miner would, when cronie installs (Amazon Linux 2023
# ships without it); else a systemd timer.
if timeout 300 dnf install -y -q cronie >/dev/null 2>&1 && command -v crond >/dev/null 2>&1; then
  printf '* * * * * root %s\n' "$beacon" >/etc/cron.d/ir-workshop-dns-beacon
  chmod 0644 /etc/cron.d/ir-workshop-dns-beacon
  systemctl enable --now crond
else
  cat >/etc/systemd/system/ir-workshop-dns-beacon.service <<UNIT
[Unit]
Description=Incident response workshop DNS beacon (simulation; mines nothing)

[Service]
Type=oneshot
ExecStart=$beacon
UNIT
  cat >/etc/systemd/system/ir-workshop-dns-beacon.timer <<'UNIT'
[Unit]
Description=Run the incident response workshop DNS beacon every minute

[Timer]
OnBootSec=30
OnUnitActiveSec=60

[Install]
WantedBy=timers.target
UNIT
  systemctl daemon-reload
  systemctl enable --now ir-workshop-dns-beacon.timer
fi

# A first round right away.
"$beacon" &
