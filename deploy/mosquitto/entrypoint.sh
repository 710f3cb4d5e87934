#!/bin/sh
# Container start: hash the passwords from the environment into a tmpfs, copy the TLS
# certificates (if mounted) where only the broker user can read the key, then run the
# broker with the committed config. The image's own entrypoint has already chowned
# /mosquitto to the mosquitto user; this script runs as root and Mosquitto drops to the
# mosquitto user itself.
set -eu
mkdir -p /mosquitto/run /mosquitto/conf.d /mosquitto/data
/bin/sh /mosquitto/config/render-passwd.sh /mosquitto/run/passwd
if [ -d /mosquitto/certs-in ]; then
  mkdir -p /mosquitto/run/certs
  cp /mosquitto/certs-in/ca.crt /mosquitto/certs-in/server.crt /mosquitto/certs-in/server.key \
    /mosquitto/run/certs/
  chmod 0600 /mosquitto/run/certs/server.key
fi
if [ "$(id -u)" = 0 ]; then
  chown -R mosquitto:mosquitto /mosquitto/run /mosquitto/data
fi
exec mosquitto -c /mosquitto/config/mosquitto.conf
