#!/bin/bash
# InfluxDB 2.7 first start: least-privilege tokens and the InfluxQL mapping.
#
# The official image runs /docker-entrypoint-initdb.d/*.sh once, right after
# `influx setup` created the org, the bucket and the admin (the `influx` CLI here is
# already configured with the admin token). This script:
#   - maps the bucket to an InfluxQL database/retention policy (the dashboards, the
#     collector's v1 fallback and the terminal overview speak InfluxQL);
#   - creates a WRITE-only token for the bucket (collector, backfill) and a READ-only
#     token for the bucket (Grafana);
#   - hands each token over as a file on its own volume, mounted only into the services
#     that need it. InfluxDB 2.x cannot create a token with a value chosen in advance
#     (influxdata/influxdb#21385), so the tokens cannot come from .env.
# Admin credentials never leave this container.
set -euo pipefail

org="${DOCKER_INFLUXDB_INIT_ORG:?}"
bucket="${DOCKER_INFLUXDB_INIT_BUCKET:?}"
bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:?}"
writer_dir="${FACTORY_WRITER_TOKEN_DIR:-/etc/influxdb2/tokens-writer}"
reader_dir="${FACTORY_READER_TOKEN_DIR:-/etc/influxdb2/tokens-reader}"

influx v1 dbrp create --org "$org" --bucket-id "$bucket_id" --db "$bucket" --rp autogen \
  --default >/dev/null
echo "factory-init: InfluxQL database '$bucket' (rp autogen) maps to bucket '$bucket'"

# --hide-headers prints: ID, Description, Token, User Name, User ID, Permissions (tabs).
create_token() {  # description, permission flag
  influx auth create --org "$org" --description "$1" "$2" "$bucket_id" --hide-headers \
    | cut -f 3
}

umask 022  # each token file sits on a volume mounted only where it is needed
mkdir -p "$writer_dir" "$reader_dir"
create_token "factory collector + backfill: write bucket $bucket only" --write-bucket \
  > "$writer_dir/influx-write.token.tmp"
mv "$writer_dir/influx-write.token.tmp" "$writer_dir/influx-write.token"
create_token "factory grafana: read bucket $bucket only" --read-bucket \
  > "$reader_dir/influx-read.token.tmp"
mv "$reader_dir/influx-read.token.tmp" "$reader_dir/influx-read.token"
for f in "$writer_dir/influx-write.token" "$reader_dir/influx-read.token"; do
  if [ ! -s "$f" ]; then
    echo "factory-init: could not create $f" >&2
    exit 1
  fi
done
echo "factory-init: write-only and read-only tokens created (values not logged)"
