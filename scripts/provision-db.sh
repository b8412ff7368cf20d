#!/usr/bin/env bash
# Makes sure the database a SQLAlchemy URL names exists, with PostGIS, for the URL's user.
#
#   scripts/provision-db.sh postgresql+psycopg://USER:PASSWORD@HOST:PORT/DBNAME
#
# On this machine (localhost, 127.0.0.1, a socket) it creates the login role, the database
# owned by it and the postgis extension, as the postgres superuser; each only if missing.
# On another host it only checks that the URL connects and that PostGIS is there (creating
# the extension if the user may).
set -euo pipefail

url=${1:?usage: $0 DATABASE_URL}

# sets db_user, db_password, db_host, db_port, db_name, db_local (yes/no) and libpq_url
db_user='' db_password='' db_host='' db_port='' db_name='' db_local='' libpq_url=''
parsed=$(python3 - "$url" <<'PY'
import shlex
import sys
from urllib.parse import parse_qs, unquote, urlsplit

url = urlsplit(sys.argv[1])
if url.scheme.split("+")[0] not in ("postgresql", "postgres"):
    sys.exit(f"error: not a PostgreSQL URL: {sys.argv[1]}")
host = url.hostname or parse_qs(url.query).get("host", [""])[0]
fields = {
    "db_user": unquote(url.username or ""),
    "db_password": unquote(url.password or ""),
    "db_host": host,
    "db_port": str(url.port or 5432),
    "db_name": unquote(url.path.lstrip("/")),
    "db_local": "yes" if host in ("", "localhost", "127.0.0.1", "::1") or host.startswith("/") else "no",
    # the same URL for libpq (psql), which does not know SQLAlchemy's "+driver"
    "libpq_url": url._replace(scheme="postgresql").geturl(),
}
if not fields["db_user"] or not fields["db_name"]:
    sys.exit(f"error: the URL must name a user and a database: {sys.argv[1]}")
for name, value in fields.items():
    print(f"{name}={shlex.quote(value)}")
PY
)
eval "$parsed"
where="$db_name on ${db_host:-the local socket}:$db_port"

# psql as the URL's user; the password travels in the URL
as_user() {
    psql "$libpq_url" -X -q -v ON_ERROR_STOP=1 -tA "$@"
}

# psql as the postgres superuser: over TCP where trust or a password file allows it, else
# through the socket with peer authentication as the postgres system user
admin_psql() {
    if psql -h 127.0.0.1 -p "$db_port" -U postgres -w -X -tAc 'SELECT 1' postgres >/dev/null 2>&1; then
        echo psql -h 127.0.0.1 -U postgres -w
    elif [[ $EUID -eq 0 ]]; then
        echo runuser -u postgres -- psql
    else
        echo sudo -u postgres psql
    fi
}

as_admin() {
    "${admin[@]}" -p "$db_port" -X -q -v ON_ERROR_STOP=1 -tA "$@"
}

postgis_check="SELECT extversion FROM pg_extension WHERE extname = 'postgis'"

if [[ $db_local == yes ]]; then
    # runuser keeps the working directory, which the postgres user may not be able to read
    cd /
    read -r -a admin <<<"$(admin_psql)"

    role_sql=$(
        cat <<'SQL'
SELECT CASE WHEN :'password' = '' THEN format('CREATE ROLE %I LOGIN', :'user')
            ELSE format('CREATE ROLE %I LOGIN PASSWORD %L', :'user', :'password') END
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN', :'user')
 WHERE NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
    )
    echo "==> database $where: role $db_user, database, postgis"
    as_admin -v user="$db_user" -v password="$db_password" -v db="$db_name" postgres <<<"$role_sql"
    # An existing role gets the URL's password only when it cannot log in with it: setting it
    # on every run would change the stored hash each time.
    if [[ -n $db_password ]] && ! as_user -c 'SELECT 1' >/dev/null 2>&1; then
        as_admin -v user="$db_user" -v password="$db_password" postgres \
            <<<"SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'password') \gexec"
    fi
    if [[ -z $(as_admin -c "$postgis_check" "$db_name") ]]; then
        as_admin -c 'CREATE EXTENSION IF NOT EXISTS postgis' "$db_name"
    fi
fi

if ! as_user -c 'SELECT 1' >/dev/null; then
    echo "error: cannot connect to $where as $db_user; check the URL, the server and its pg_hba.conf" >&2
    exit 1
fi
if [[ -z $(as_user -c "$postgis_check") ]]; then
    if ! as_user -c 'CREATE EXTENSION IF NOT EXISTS postgis' 2>/dev/null; then
        echo "error: PostGIS is not enabled in $where and $db_user may not enable it;" \
            "ask the server's administrator to run CREATE EXTENSION postgis there" >&2
        exit 1
    fi
fi
version=$(as_user -c "SELECT substring(postgis_full_version() FROM 'POSTGIS=\"([^ \"]+)')")
echo "==> database $where ready for $db_user (PostGIS $version)"
