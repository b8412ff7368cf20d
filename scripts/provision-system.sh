#!/usr/bin/env bash
# Installs the Debian packages Wangge needs and starts the local PostgreSQL cluster and the
# local Redis that holds the rate limits ($WANGGE_RATELIMIT_STORAGE_URL, default
# redis://127.0.0.1:6379/0; a Redis on another machine must already run).
#
#   scripts/provision-system.sh [--browser] [DATABASE_URL]
#
# PostgreSQL and PostGIS are installed and started only when the database URL (the argument,
# else $DATABASE_URL, else the default) names this machine; a remote server must already have
# PostGIS. --browser adds what the end-to-end tests drive: Chromium and CJK fonts, and GDAL's
# command-line tools (ogrinfo, as a GIS user runs it). apt-get runs only when a package is
# missing.
set -euo pipefail

browser=false
if [[ ${1:-} == --browser ]]; then
    browser=true
    shift
fi
url=${1:-${DATABASE_URL:-postgresql+psycopg://wangge:wangge@127.0.0.1:5432/wangge}}

sudo=()
[[ $EUID -eq 0 ]] || sudo=(sudo)

# host ("-" for the default socket), port, and whether the server is on this machine
read -r db_host db_port db_local < <(python3 - "$url" <<'PY'
import sys
from urllib.parse import parse_qs, urlsplit

url = urlsplit(sys.argv[1])
host = url.hostname or parse_qs(url.query).get("host", [""])[0]
local = host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/")
print(host or "-", url.port or 5432, "yes" if local else "no")
PY
)
[[ -n ${db_local:-} ]] || { echo "error: cannot parse database URL $url" >&2; exit 1; }
[[ $db_host == - ]] && db_host=""

missing=()
want() {
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$package")
    done
}

# the local cluster on the database port, as "version name"
local_cluster() {
    command -v pg_lsclusters >/dev/null || return 0
    pg_lsclusters --no-header | awk -v port="$db_port" '$3 == port { print $1, $2; exit }'
}

command -v psql >/dev/null || want postgresql-client
python3 -c 'import ensurepip, venv' 2>/dev/null || want python3-venv
command -v npm >/dev/null || want npm
redis_url=${WANGGE_RATELIMIT_STORAGE_URL:-redis://127.0.0.1:6379/0}
read -r redis_host redis_port redis_local < <(python3 - "$redis_url" <<'PY'
import sys
from urllib.parse import urlsplit

url = urlsplit(sys.argv[1])
host = url.hostname or "127.0.0.1"
print(host, url.port or 6379, "yes" if host in ("localhost", "127.0.0.1", "::1") else "no")
PY
)
[[ $redis_local == yes ]] && want redis-server
if [[ $db_local == yes ]]; then
    cluster=$(local_cluster)
    pg_major=${cluster%% *}
    pg_major=${pg_major:-${PG_MAJOR:-15}}
    [[ -x /usr/lib/postgresql/$pg_major/bin/postgres ]] || want "postgresql-$pg_major"
    want "postgresql-$pg_major-postgis-3"
fi
if $browser; then
    want chromium fonts-noto-cjk gdal-bin
fi

if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "==> system packages present"
fi

# Rate-limit counters only: no persistence, bounded memory (every key has a time to live).
if [[ $redis_local == yes ]] && ! redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null 2>&1; then
    echo "==> starting Redis on $redis_host:$redis_port"
    "${sudo[@]}" redis-server --daemonize yes --bind "$redis_host" --port "$redis_port" \
        --protected-mode yes --save "" --appendonly no --maxmemory 64mb \
        --maxmemory-policy volatile-ttl --dir /tmp --logfile ""
    for _ in $(seq 20); do
        redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.25
    done
    redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null ||
        { echo "error: Redis does not answer on $redis_host:$redis_port" >&2; exit 1; }
fi
[[ $redis_local == yes ]] && echo "==> Redis is answering on $redis_host:$redis_port"

if [[ $db_local != yes ]]; then
    echo "==> database server $db_host is not on this machine: nothing to start"
    exit 0
fi

ready() {
    pg_isready -q ${db_host:+-h "$db_host"} -p "$db_port"
}

if ! ready; then
    cluster=$(local_cluster)
    if [[ -z $cluster ]]; then
        echo "error: no local PostgreSQL cluster uses port $db_port (see pg_lsclusters)" >&2
        exit 1
    fi
    echo "==> starting PostgreSQL cluster $cluster"
    # shellcheck disable=SC2086 # $cluster is "version name"
    "${sudo[@]}" pg_ctlcluster --skip-systemctl-redirect $cluster start
    for _ in $(seq 60); do
        ready && break
        sleep 0.5
    done
    if ! ready; then
        echo "error: PostgreSQL cluster $cluster does not accept connections on port $db_port" >&2
        exit 1
    fi
fi
echo "==> PostgreSQL is accepting connections on port $db_port"
