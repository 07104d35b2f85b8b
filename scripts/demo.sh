#!/usr/bin/env bash
# `make demo`: the main job on the built-in lab. Builds the bridged lab with a
# firewall drop, shows what hopdump discovers and the path to the broken VM,
# then removes the lab whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
HOPDUMP=bin/hopdump
NAME=demo
trap '$HOPDUMP lab down --name $NAME >/dev/null 2>&1 || true' EXIT INT TERM

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step hopdump lab up bridged --fault firewall-drop --name $NAME
$HOPDUMP lab up bridged --fault firewall-drop --name $NAME

step ip netns exec hd-$NAME-client ping -c 2 -W 1 192.0.2.11
ip netns exec hd-$NAME-client ping -n -c 2 -W 1 -i 0.2 192.0.2.11 || echo "(no answer: the fault is in place)"

if $HOPDUMP --help | grep -q '^  diagnose'; then
  step hopdump diagnose --netns hd-$NAME-hv --from netns:hd-$NAME-client --target 192.0.2.11
  $HOPDUMP diagnose --netns hd-$NAME-hv --from netns:hd-$NAME-client --target 192.0.2.11 || true
else
  step hopdump discover --netns hd-$NAME-hv
  $HOPDUMP discover --netns hd-$NAME-hv
  step hopdump path --netns hd-$NAME-hv --target 192.0.2.11
  $HOPDUMP path --netns hd-$NAME-hv --target 192.0.2.11
fi

step hopdump lab down --name $NAME
$HOPDUMP lab down --name $NAME
trap - EXIT INT TERM
