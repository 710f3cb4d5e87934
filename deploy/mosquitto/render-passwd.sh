#!/bin/sh
# Write Mosquitto's password file from the environment; nothing secret is committed.
#
# Usage: render-passwd.sh OUTFILE
# One user per role; each password comes from MQTT_<ROLE>_PASSWORD or from the file
# named by MQTT_<ROLE>_PASSWORD_FILE (Docker secrets). A missing one is an error:
# the broker never starts with an empty or default password.
set -eu
out=${1:?usage: render-passwd.sh OUTFILE}
umask 077
tmp="$out.tmp.$$"
: > "$tmp"
for pair in simulator:MQTT_SIMULATOR_PASSWORD collector:MQTT_COLLECTOR_PASSWORD \
            operator:MQTT_OPERATOR_PASSWORD health:MQTT_HEALTH_PASSWORD; do
  user=${pair%%:*}
  var=${pair#*:}
  eval "pw=\${$var:-}"
  eval "pw_file=\${${var}_FILE:-}"
  if [ -z "$pw" ] && [ -n "$pw_file" ]; then
    pw=$(cat "$pw_file")
  fi
  if [ -z "$pw" ]; then
    rm -f "$tmp"
    echo "mosquitto: $var is not set (run scripts/init-env to generate .env)" >&2
    exit 1
  fi
  mosquitto_passwd -b "$tmp" "$user" "$pw"
done
mv "$tmp" "$out"
echo "mosquitto: password file written for simulator, collector, operator, health"
