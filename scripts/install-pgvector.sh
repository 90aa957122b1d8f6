#!/usr/bin/env bash
# Makes the pgvector extension available to the local PostgreSQL.
# Debian-family machines: builds pgvector 0.8 from Debian's source package
# (trixie) against postgresql-server-dev-<major>. Other systems: prints what to do.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-$(psql -XAtc 'show server_version_num' "${PGDATABASE_URL:-postgres://root@127.0.0.1:5432/postgres}" 2>/dev/null | cut -c1-2 || true)}"
if [ -z "$PG_MAJOR" ]; then
  PG_MAJOR=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
fi
if [ -z "$PG_MAJOR" ]; then
  echo "install-pgvector: no PostgreSQL found. Install PostgreSQL 15+ first." >&2
  exit 1
fi
EXT_DIR="/usr/share/postgresql/${PG_MAJOR}/extension"
if ls "$EXT_DIR"/vector--0.8*.sql >/dev/null 2>&1; then
  echo "install-pgvector: pgvector 0.8 already installed for PostgreSQL ${PG_MAJOR}"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  cat >&2 <<MSG
install-pgvector: pgvector 0.8+ is missing and this is not a Debian-family machine.
Install it for PostgreSQL ${PG_MAJOR}, for example:
  macOS (Homebrew):   brew install pgvector
  RHEL/Fedora (PGDG): dnf install pgvector_${PG_MAJOR}
  From source:        git clone --branch v0.8.0 https://github.com/pgvector/pgvector && cd pgvector && make && sudo make install
or point DATABASE_URL at a server that has it (docker: pgvector/pgvector:pg17).
MSG
  exit 1
fi

SUDO=""
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Source packages come from trixie, which ships pgvector 0.8.x; only the source is used.
SRC_LIST=/etc/apt/sources.list.d/botkit-pgvector-src.sources
if [ ! -f "$SRC_LIST" ]; then
  $SUDO tee "$SRC_LIST" >/dev/null <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "postgresql-server-dev-${PG_MAJOR}" build-essential dpkg-dev >/dev/null

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source -qq pgvector >/dev/null 2>&1 || apt-get source pgvector
cd pgvector-*/
make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" OPTFLAGS="" >/dev/null
$SUDO make -s PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config" install >/dev/null
echo "install-pgvector: installed $(ls "$EXT_DIR"/vector.control >/dev/null && grep default_version "$EXT_DIR/vector.control")"
