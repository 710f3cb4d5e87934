#!/bin/sh
# Write Mosquitto's password file from the environment; nothing secret is committed.
#
# Usage: render-passwd.sh OUTFILE [USERS_FILE]
# USERS_FILE lists `role user` per line (written by `python -m stack.acl`, default
# /mosquitto/acl/users; without it the four roles are the users). Each user gets its
# role's password, from MQTT_<ROLE>_PASSWORD or from the file named by
# MQTT_<ROLE>_PASSWORD_FILE (Docker secrets). A missing one is an error: the broker never
# starts with an empty or default password. No password ever appears on a command line:
# the plain `user:password` lines go to a 0600 file that `mosquitto_passwd -U` hashes in
# place.
set -eu
out=${1:?usage: render-passwd.sh OUTFILE [USERS_FILE]}
users=${2:-/mosquitto/acl/users}
umask 077
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
: > "$tmp"
if [ -f "$users" ]; then
  list=$(cat "$users")
else
  list="simulator simulator
collector collector
operator operator
health health"
fi
echo "$list" | {
  while read -r role user; do
    [ -n "$role" ] || continue
    case "$role" in
      simulator|collector|operator|health) ;;
      *) echo "mosquitto: $users: unknown role '$role'" >&2; exit 1 ;;
    esac
    var=MQTT_$(echo "$role" | tr '[:lower:]' '[:upper:]')_PASSWORD
    eval "pw=\${$var:-}"
    eval "pw_file=\${${var}_FILE:-}"
    if [ -z "$pw" ] && [ -n "$pw_file" ]; then
      pw=$(cat "$pw_file")
    fi
    if [ -z "$pw" ]; then
      echo "mosquitto: $var is not set (run scripts/init-env to generate .env)" >&2
      exit 1
    fi
    printf '%s:%s\n' "$user" "$pw" >> "$tmp"
  done
}
mosquitto_passwd -U "$tmp"
mv "$tmp" "$out"
trap - EXIT
names=$(cut -d: -f1 "$out" | tr '\n' ' ')
echo "mosquitto: password file written for ${names% }"
