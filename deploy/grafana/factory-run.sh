#!/bin/sh
# Grafana start: put the read-only InfluxDB token (a file written by InfluxDB's init step
# on a volume only Grafana mounts) into the environment the datasource provisioning
# reads, then hand over to the image's own start script. The token is never logged.
set -eu
if [ -n "${INFLUX_READ_TOKEN_FILE:-}" ]; then
  if [ ! -s "$INFLUX_READ_TOKEN_FILE" ]; then
    echo "grafana: $INFLUX_READ_TOKEN_FILE is missing or empty (InfluxDB init not done?)" >&2
    exit 1
  fi
  INFLUX_READ_TOKEN=$(cat "$INFLUX_READ_TOKEN_FILE")
  export INFLUX_READ_TOKEN
fi
exec /run.sh "$@"
