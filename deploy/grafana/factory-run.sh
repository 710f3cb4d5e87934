#!/bin/sh
# Grafana start: put the read-only InfluxDB token (a file written by InfluxDB's init step
# on a volume only Grafana mounts) into the environment the datasource provisioning
# reads, set the wall's UI language from GRAFANA_LANG (en -> en-US, zh -> zh-Hans), then
# hand over to the image's own start script. The token is never logged.
set -eu
if [ -n "${INFLUX_READ_TOKEN_FILE:-}" ]; then
  if [ ! -s "$INFLUX_READ_TOKEN_FILE" ]; then
    echo "grafana: $INFLUX_READ_TOKEN_FILE is missing or empty (InfluxDB init not done?)" >&2
    exit 1
  fi
  INFLUX_READ_TOKEN=$(cat "$INFLUX_READ_TOKEN_FILE")
  export INFLUX_READ_TOKEN
fi
case "${GRAFANA_LANG:-en}" in
  en) GF_USERS_DEFAULT_LANGUAGE=en-US ;;
  zh) GF_USERS_DEFAULT_LANGUAGE=zh-Hans ;;
  *) echo "grafana: GRAFANA_LANG=${GRAFANA_LANG} (allowed: en, zh)" >&2; exit 1 ;;
esac
export GF_USERS_DEFAULT_LANGUAGE
exec "${GRAFANA_RUN:-/run.sh}" "$@"
