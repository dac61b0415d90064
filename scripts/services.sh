#!/usr/bin/env bash
# Make sure the local Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379)
# that Hehuo's tests and demo use are installed and running. Idempotent: when
# both already answer, it only checks and returns.
#
#   scripts/services.sh                 ensure both services are up
#   scripts/services.sh createdb NAME   ...and create database NAME if missing
#   scripts/services.sh dropdb NAME     ...and drop database NAME if present
#
# Missing packages are installed with apt-get when running as root
# (DEBIAN_FRONTEND=noninteractive); otherwise the script says what to install.
# HEHUO_SERVICES_TIMEOUT (seconds, default 30) bounds each wait.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379
TIMEOUT=${HEHUO_SERVICES_TIMEOUT:-30}
REDIS_DIR=/var/lib/redis
REDIS_LOG=/var/log/redis/ci.log

say() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

pg_up() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1; }
redis_up() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# pg_version prints the newest cluster version under /etc/postgresql, or nothing.
pg_version() {
	ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1
}

apt_install() {
	is_root || die "$* not installed and not running as root; install with: sudo apt-get install -y $*"
	command -v apt-get >/dev/null || die "$* not installed and apt-get is not available"
	say "installing $* with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null
	apt-get -o DPkg::Lock::Timeout=300 install -y -q "$@" </dev/null
}

# configure_fresh_pg makes a freshly installed cluster accept user postgres
# over TCP on loopback without a password, as the existing machines do.
configure_fresh_pg() {
	local ver hba
	ver=$(pg_version)
	if [ -z "$ver" ] || [ ! -d "/etc/postgresql/$ver/main" ]; then
		ver=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
		[ -n "$ver" ] || die "postgresql installed but no server version under /usr/lib/postgresql"
		say "creating cluster $ver/main"
		pg_createcluster "$ver" main
	fi
	hba="/etc/postgresql/$ver/main/pg_hba.conf"
	[ -f "$hba" ] || die "no $hba after installing postgresql"
	if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+(postgres|all)[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
		say "allowing trust auth for postgres on loopback in $hba"
		# First matching line wins, so these go on top.
		local tmp
		tmp=$(mktemp)
		{
			echo "# Added by hehuo scripts/services.sh: local test/demo database, trust on loopback."
			echo "host    all             postgres        127.0.0.1/32            trust"
			echo "host    all             postgres        ::1/128                 trust"
			cat "$hba"
		} >"$tmp"
		cat "$tmp" >"$hba"
		rm -f "$tmp"
		# A running cluster (the package may have started it) must re-read the file.
		pg_ctlcluster --skip-systemctl-redirect "$ver" main reload >/dev/null 2>&1 || true
	fi
}

ensure_installed() {
	local pkgs=() fresh_pg=0
	if ! command -v pg_ctlcluster >/dev/null || ! command -v pg_isready >/dev/null ||
		! command -v psql >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
		pkgs+=(postgresql)
		fresh_pg=1
	fi
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		pkgs+=(redis-server)
	fi
	if [ ${#pkgs[@]} -gt 0 ]; then
		apt_install "${pkgs[@]}"
	fi
	if [ "$fresh_pg" = 1 ]; then
		configure_fresh_pg
	fi
}

# wait_for NAME CHECK: poll CHECK until it succeeds or TIMEOUT seconds pass.
wait_for() {
	local name=$1 check=$2 i
	for ((i = 0; i < TIMEOUT * 4; i++)); do
		"$check" && return 0
		sleep 0.25
	done
	return 1
}

start_pg() {
	pg_up && return 0
	local ver
	ver=$(pg_version)
	[ -n "$ver" ] || die "no PostgreSQL cluster under /etc/postgresql"
	say "starting PostgreSQL $ver/main"
	# Exit status 2 means "already running" (e.g. still starting up); the wait decides.
	pg_ctlcluster --skip-systemctl-redirect "$ver" main start </dev/null || true
	if ! wait_for postgres pg_up; then
		say "PostgreSQL log (tail):"
		tail -n 20 "/var/log/postgresql/postgresql-$ver-main.log" >&2 2>/dev/null || true
		die "PostgreSQL not ready on $PG_HOST:$PG_PORT after ${TIMEOUT}s (pg_isready -h $PG_HOST)"
	fi
}

start_redis() {
	redis_up && return 0
	local dir=$REDIS_DIR log=$REDIS_LOG
	mkdir -p "$dir" "$(dirname "$log")" 2>/dev/null || true
	if [ ! -w "$dir" ] || [ ! -w "$(dirname "$log")" ]; then
		# Not root and the system dirs are not ours: keep Redis's files in a temp dir.
		dir="${TMPDIR:-/tmp}/hehuo-redis"
		log="$dir/redis.log"
		mkdir -p "$dir"
	fi
	say "starting Redis on $REDIS_HOST:$REDIS_PORT"
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
		--dir "$dir" --logfile "$log" </dev/null || true
	if ! wait_for redis redis_up; then
		say "Redis log (tail):"
		tail -n 20 "$log" >&2 2>/dev/null || true
		die "Redis not answering PING on $REDIS_HOST:$REDIS_PORT after ${TIMEOUT}s (redis-cli -h $REDIS_HOST ping)"
	fi
}

psql_admin() {
	psql -X -w -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres "$@" </dev/null
}

check_dbname() {
	[[ "${1:-}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "database name '${1:-}' must match [A-Za-z_][A-Za-z0-9_]*"
}

db_exists() {
	[ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]
}

createdb_if_missing() {
	check_dbname "$1"
	if db_exists "$1"; then
		say "database $1 exists"
	else
		psql_admin -c "CREATE DATABASE \"$1\""
		say "created database $1"
	fi
}

dropdb_if_present() {
	check_dbname "$1"
	psql_admin -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)"
	say "dropped database $1 (if it existed)"
}

ensure_services() {
	ensure_installed
	start_pg
	start_redis
	say "PostgreSQL $PG_HOST:$PG_PORT and Redis $REDIS_HOST:$REDIS_PORT are up"
}

case "${1:-up}" in
up | start | ensure)
	ensure_services
	;;
createdb)
	[ $# -eq 2 ] || die "usage: $0 createdb NAME"
	ensure_services
	createdb_if_missing "$2"
	;;
dropdb)
	[ $# -eq 2 ] || die "usage: $0 dropdb NAME"
	ensure_services
	dropdb_if_present "$2"
	;;
-h | --help | help)
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	;;
*)
	die "unknown command '$1' (want: up, createdb NAME, dropdb NAME)"
	;;
esac
