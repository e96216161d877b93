#!/usr/bin/env bash
# Run a command inside a private network namespace, so that everything the
# tests start (app servers, Chromium, TURN, the test runner itself) can only
# talk to loopback and to the test hosts we create here. See
# shared/docs/TESTING.md, "Keep call traffic on our own test hosts".
#
# Usage: bash tests/netns.sh CMD [ARGS...]
#
# Inside the namespace:
#   lo          up (127.0.0.1, ::1) - app servers listen on 127.0.0.1
#   pb0 <-> pb1 a veth pair; pb0 is 10.77.0.1/24, default route via 10.77.0.2
#               (no host answers there: nothing leaves the namespace). The
#               extra host address lets Chromium and Firefox gather ICE
#               candidates as they would on a real network.
#   PARLEY_NETNS=1 is exported, so nested calls just exec CMD and tests can
#               tell that they are isolated.
#
# How the namespace is made:
#   as root:        unshare --net
#   as other users: unshare --map-root-user --net (needs unprivileged user
#                   namespaces)
#   neither works:  a warning and exit 3 - unless PARLEY_NETNS=skip is set,
#                   then CMD runs WITHOUT isolation (browser helpers accept
#                   that only under PARLEY_NETNS=skip; you own the traffic).
#
# Nothing inside reaches a package registry: warm every cache (deno cache,
# deno task build) before calling this script. `deno task test` does.
#
# The exit code is CMD's (the script execs it); 3 means no namespace could be
# made, 4 that setting it up failed, 2 a usage error.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: bash tests/netns.sh CMD [ARGS...]" >&2
  exit 2
fi

# Already inside one of ours: nothing to do.
if [ "${PARLEY_NETNS:-}" = "1" ]; then
  exec "$@"
fi

# `ip` lives in /usr/sbin, which is not on every user's PATH.
IP_BIN="$(command -v ip || true)"
for candidate in /usr/sbin/ip /sbin/ip /usr/bin/ip /bin/ip; do
  if [ -z "$IP_BIN" ] && [ -x "$candidate" ]; then IP_BIN="$candidate"; fi
done

UNSHARE=()
if [ -n "$IP_BIN" ] && command -v unshare >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
    UNSHARE=(unshare --net)
  elif unshare --map-root-user --net true 2>/dev/null; then
    UNSHARE=(unshare --map-root-user --net)
  fi
fi

if [ "${#UNSHARE[@]}" -eq 0 ]; then
  {
    echo "tests/netns.sh: WARNING: cannot create a private network namespace"
    echo "  (need root, or unprivileged user namespaces, plus unshare(1) from"
    echo "  util-linux and ip(8) from iproute2)."
  } >&2
  if [ "${PARLEY_NETNS:-}" = "skip" ]; then
    echo "tests/netns.sh: PARLEY_NETNS=skip: running WITHOUT network isolation: $*" >&2
    exec "$@"
  fi
  echo "  Refusing to run the tests unisolated. Set PARLEY_NETNS=skip to run them anyway." >&2
  exit 3
fi

# The setup runs inside the namespace, then bash replaces itself with CMD
# (and unshare, without --fork, exec'd bash): CMD's exit code is ours.
# shellcheck disable=SC2016 # expanded by the inner bash
SETUP='
set -eu
ip=$PARLEY_IP_BIN
fail() { echo "tests/netns.sh: namespace setup failed: $1" >&2; exit 4; }
"$ip" link set lo up || fail "lo up"
"$ip" link add pb0 type veth peer name pb1 || fail "veth pb0/pb1"
"$ip" addr add 10.77.0.1/24 dev pb0 || fail "addr 10.77.0.1/24"
"$ip" link set pb0 up || fail "pb0 up"
"$ip" link set pb1 up || fail "pb1 up"
"$ip" route add default via 10.77.0.2 dev pb0 || fail "default route"
"$ip" -4 addr show dev lo | grep -q "inet 127.0.0.1/" || fail "no 127.0.0.1 on lo"
unset PARLEY_IP_BIN
export PARLEY_NETNS=1
exec "$@"
'
export PARLEY_IP_BIN="$IP_BIN"
exec "${UNSHARE[@]}" bash -c "$SETUP" netns "$@"
