#!/bin/sh
# Entry point of the dialer image: turns file secrets into what libpq reads, refuses to start
# without the secrets the command needs, then runs the command as PID 1's child (tini).
#
# The dialer reads DIALER_ARI_PASSWORD_FILE / DIALER_AMI_PASSWORD_FILE itself (dialer/config.py).
# The PostgreSQL password is libpq's: PGPASSWORD_FILE (a file with the password only, as the
# postgres image's POSTGRES_PASSWORD_FILE) is exported as PGPASSWORD for this process only.
set -eu

die() { echo "dialer-entrypoint: $*" >&2; exit 64; }

if [ -n "${PGPASSWORD_FILE:-}" ]; then
  [ -r "$PGPASSWORD_FILE" ] || die "PGPASSWORD_FILE=$PGPASSWORD_FILE is not readable"
  PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
  [ -n "$PGPASSWORD" ] || die "PGPASSWORD_FILE=$PGPASSWORD_FILE is empty"
  export PGPASSWORD
fi

case "${DIALER_DATABASE_URL:-}" in
  *://*:*@*) die "DIALER_DATABASE_URL carries a password; pass it as PGPASSWORD_FILE (a secret) instead" ;;
  postgresql*) [ -n "${PGPASSWORD:-}" ] || [ -n "${PGPASSFILE:-}" ] \
                 || die "DIALER_DATABASE_URL is PostgreSQL but no PGPASSWORD_FILE/PGPASSFILE secret is set" ;;
esac

# `dialer run` connects to Asterisk: its password must be there before the first dial attempt,
# not discovered at the first reconnect.
if [ "${1:-}" = "dialer" ] && [ "${2:-}" = "run" ]; then
  backend="${DIALER_TELEPHONY_BACKEND:-ari}" prev=""
  for arg in "$@"; do
    case "$prev=$arg" in --telephony=ami|*=--telephony=ami) backend=ami ;; --telephony=ari|*=--telephony=ari) backend=ari ;; esac
    prev="$arg"
  done
  if [ "$backend" = ami ]; then var=DIALER_AMI_PASSWORD; else var=DIALER_ARI_PASSWORD; fi
  eval "value=\${$var:-}"; eval "file=\${${var}_FILE:-}"
  if [ -z "$value" ]; then
    [ -n "$file" ] || die "${var}_FILE (or $var) must be set: the $backend password is a secret with no default"
    [ -s "$file" ] || die "${var}_FILE=$file is missing or empty"
  fi
fi

exec "$@"
