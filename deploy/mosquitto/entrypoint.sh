#!/bin/sh
# Container start: hash the passwords from the environment into a tmpfs, write the health
# check's client options (its password in a 0600 file, never on a command line), copy the
# TLS certificates (if mounted) where only the broker user can read the key, then run the
# broker with the committed config. The ACL and user list come from the `plant` service
# (python -m stack.acl) on the read-only volume at /mosquitto/acl. The image's own
# entrypoint has already chowned /mosquitto to the mosquitto user; this script runs as root
# and Mosquitto drops to the mosquitto user itself.
set -eu
run=${MOSQUITTO_RUN_DIR:-/mosquitto/run}
acl_dir=${MOSQUITTO_ACL_DIR:-/mosquitto/acl}
if [ ! -s "$acl_dir/acl" ]; then
  echo "mosquitto: $acl_dir/acl is missing (the plant service writes it)" >&2
  exit 1
fi
mkdir -p "$run" /mosquitto/conf.d /mosquitto/data
/bin/sh /mosquitto/config/render-passwd.sh "$run/passwd" "$acl_dir/users"
# mosquitto_sub reads default options from $XDG_CONFIG_HOME/mosquitto_sub (one per line).
umask 077
mkdir -p "$run/health"
pw=${MQTT_HEALTH_PASSWORD:-}
if [ -z "$pw" ] && [ -n "${MQTT_HEALTH_PASSWORD_FILE:-}" ]; then
  pw=$(cat "$MQTT_HEALTH_PASSWORD_FILE")
fi
printf -- '-u health\n-P %s\n' "$pw" > "$run/health/mosquitto_sub"
if [ -d /mosquitto/certs-in ]; then
  mkdir -p "$run/certs"
  cp /mosquitto/certs-in/ca.crt /mosquitto/certs-in/server.crt /mosquitto/certs-in/server.key \
    "$run/certs/"
  chmod 0600 "$run/certs/server.key"
fi
if [ "$(id -u)" = 0 ]; then
  chown -R mosquitto:mosquitto "$run" /mosquitto/data
fi
exec mosquitto -c /mosquitto/config/mosquitto.conf
