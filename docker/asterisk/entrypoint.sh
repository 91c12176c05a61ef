#!/bin/bash
# Entry point of the Asterisk image: render the project's asterisk_conf/ with this deployment's
# secrets and addresses into /etc/asterisk, then run Asterisk in the foreground as user asterisk.
#
#   entrypoint.sh            render, then exec asterisk -f (the container's process)
#   entrypoint.sh render     render only (tests, or to inspect what would run)
#   entrypoint.sh CMD ...    render, then exec CMD (e.g. a shell for debugging)
#
# Secrets: every __NAME__ placeholder in the configs (ari.conf __ARI_PASSWORD__, manager.conf
# __AMI_PASSWORD__, pjsip.conf __AGENT_PASSWORD__, ...) takes its value from the environment
# variable NAME, else from the file named by NAME_FILE, else from /run/secrets/<name> (compose and
# swarm secrets). A placeholder with no value stops the container: there is no default password.
# Passwords must be at least 16 characters from [A-Za-z0-9._~+@%^*!=-] (';' starts a comment in
# Asterisk configs, and whitespace is trimmed). User names (__ARI_USER__, __AMI_USER__) default
# to "dialer".
#
# Addresses: the shipped configs listen on 127.0.0.1 only. In a container the dialer and the bot
# are other hosts, so the deployment says where to listen (docs/deployment.md, compose.yaml):
#   ASTERISK_HTTP_BIND    http.conf bindaddr (ARI)                      default 127.0.0.1
#   ASTERISK_AMI_BIND     manager.conf bindaddr                          default 127.0.0.1
#   ASTERISK_AMI_PERMIT   manager.conf permit= for the dialer user, e.g. 172.28.10.0/255.255.255.0
#                         (never 0.0.0.0/0.0.0.0)                        default 127.0.0.1/255.255.255.255
#   ASTERISK_SIP_BIND     pjsip.conf transport bind                      default 127.0.0.1:5060
#   ASTERISK_RTP_PORTS    rtp.conf range, e.g. 10000-10099                default Debian's rtp.conf
#   DIALER_BOT_AGI        extensions.conf FastAGI URL of the bot          default agi://127.0.0.1:4573/bot
# An admin's own configs (a real trunk in pjsip.conf, ...) go in /etc/dialer/asterisk_conf/: each
# file there replaces the shipped one of the same name and is rendered the same way.
set -euo pipefail
# Bash 5.2 makes '&' in a ${var//pattern/replacement} replacement mean "the match": off.
shopt -u patsub_replacement 2>/dev/null || true

ETC="${ASTERISK_ETC:-/etc/asterisk}"
STOCK="${ASTERISK_STOCK:-/usr/share/dialer/asterisk-stock}"
SHIPPED="${ASTERISK_CONF_SRC:-/usr/share/dialer/asterisk_conf}"
OVERRIDES="${ASTERISK_CONF_OVERRIDES:-/etc/dialer/asterisk_conf}"
SECRETS_DIR="${SECRETS_DIR:-/run/secrets}"

die() { echo "asterisk-entrypoint: $*" >&2; exit 64; }

# The value of placeholder NAME: $NAME, then the file $NAME_FILE, then $SECRETS_DIR/<name>.
lookup() {
  local name="$1" file_var="${1}_FILE" lower
  lower="$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')"
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return 0; fi
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die "$file_var=${!file_var} is not readable"
    tr -d '\r\n' <"${!file_var}"; return 0
  fi
  if [ -r "$SECRETS_DIR/$lower" ]; then tr -d '\r\n' <"$SECRETS_DIR/$lower"; return 0; fi
  case "$name" in ARI_USER|AMI_USER) printf 'dialer'; return 0 ;; esac
  return 1
}

check_value() {
  local name="$1" value="$2"
  case "$name" in
    *_PASSWORD)
      [ "${#value}" -ge 16 ] || die "$name is shorter than 16 characters: use a generated secret (docker/make-secrets)"
      [[ "$value" =~ ^[A-Za-z0-9._~+@%^*!=-]+$ ]] \
        || die "$name has characters Asterisk configs cannot carry (allowed: A-Z a-z 0-9 . _ ~ + @ % ^ * ! = -)"
      case "${value,,}" in *changeme*|*password*|*example*|__*__) die "$name looks like a placeholder, not a secret" ;; esac
      ;;
    *) [[ "$value" =~ ^[A-Za-z0-9_.-]+$ ]] || die "$name must be a plain name ([A-Za-z0-9_.-])" ;;
  esac
}

check_address() {  # an address, host:port, range or URL: nothing a config line could be bent with
  [[ "$2" =~ ^[A-Za-z0-9.:/_-]+$ ]] || die "$1='$2' is not an address"
}

# Placeholders in configuration lines (not in comments, which name them to explain them).
placeholders() { grep -v '^[[:space:]]*;' "$1" | grep -o '__[A-Z][A-Z0-9_]*__' | sort -u || true; }

render_file() {
  local src="$1" dst="$2" name value script=()
  while read -r name; do
    [ -n "$name" ] || continue
    name="${name#__}"; name="${name%__}"
    value="$(lookup "$name")" || die "no value for __${name}__ in $(basename "$src"): set $name, ${name}_FILE or the secret $SECRETS_DIR/$(printf '%s' "$name" | tr '[:upper:]' '[:lower:]')"
    # Validated to [A-Za-z0-9._~+@%^*!=-]: nothing sed's replacement or '#' delimiter would read.
    check_value "$name" "$value"
    script+=(-e "/^[[:space:]]*;/!s#__${name}__#${value}#g")
  done <<<"$(placeholders "$src")"
  if ((${#script[@]})); then sed "${script[@]}" "$src" >"$dst"; else cp "$src" "$dst"; fi
}

set_line() {  # set_line FILE 'regex of the line' 'new line': the line must exist
  local file="$1" pattern="$2" line="$3"
  grep -Eq "$pattern" "$file" || die "$(basename "$file"): no line matching '$pattern' to set (custom config?)"
  sed -E -i "s#${pattern}.*#${line}#" "$file"
}

render() {
  [ -d "$SHIPPED" ] || die "shipped configs not found in $SHIPPED"
  local tmp; tmp="$(mktemp -d "${ETC%/}.render.XXXXXX")"
  # A refused render leaves /etc/asterisk as it was and no half-written copy behind.
  trap 'rm -rf "$tmp"' EXIT
  # Debian's stock files for the modules the project does not configure, ours on top: what an
  # admin does when copying asterisk_conf/*.conf into /etc/asterisk (scripts/asterisk-harness too).
  if [ -d "$STOCK" ]; then cp -a "$STOCK/." "$tmp/"; fi
  rm -f "$tmp/users.conf"   # deprecated in Asterisk 22 and unused; its presence alone logs a warning
  local f name
  for f in "$SHIPPED"/*.conf; do
    name="$(basename "$f")"
    if [ -f "$OVERRIDES/$name" ]; then f="$OVERRIDES/$name"; fi
    render_file "$f" "$tmp/$name"
  done
  if [ -d "$OVERRIDES" ]; then
    for f in "$OVERRIDES"/*.conf; do
      [ -e "$f" ] || continue
      [ -e "$tmp/$(basename "$f")" ] && [ -e "$SHIPPED/$(basename "$f")" ] && continue
      render_file "$f" "$tmp/$(basename "$f")"
    done
  fi
  if [ -n "${ASTERISK_HTTP_BIND:-}" ]; then
    check_address ASTERISK_HTTP_BIND "$ASTERISK_HTTP_BIND"
    set_line "$tmp/http.conf" '^bindaddr *=' "bindaddr = $ASTERISK_HTTP_BIND"
  fi
  if [ -n "${ASTERISK_AMI_BIND:-}" ]; then
    check_address ASTERISK_AMI_BIND "$ASTERISK_AMI_BIND"
    set_line "$tmp/manager.conf" '^bindaddr *=' "bindaddr = $ASTERISK_AMI_BIND"
  fi
  if [ -n "${ASTERISK_AMI_PERMIT:-}" ]; then
    check_address ASTERISK_AMI_PERMIT "$ASTERISK_AMI_PERMIT"
    case "$ASTERISK_AMI_PERMIT" in 0.0.0.0/0*|0.0.0.0) die "ASTERISK_AMI_PERMIT must name the dialer hosts, not every address" ;; esac
    set_line "$tmp/manager.conf" '^permit *=' "permit = $ASTERISK_AMI_PERMIT"
  fi
  if [ -n "${ASTERISK_SIP_BIND:-}" ]; then
    check_address ASTERISK_SIP_BIND "$ASTERISK_SIP_BIND"
    set_line "$tmp/pjsip.conf" '^bind *=' "bind = $ASTERISK_SIP_BIND"
  fi
  if [ -n "${DIALER_BOT_AGI:-}" ]; then
    check_address DIALER_BOT_AGI "$DIALER_BOT_AGI"
    set_line "$tmp/extensions.conf" '^DIALER_BOT_AGI=' "DIALER_BOT_AGI=$DIALER_BOT_AGI"
  fi
  if [ -n "${ASTERISK_RTP_PORTS:-}" ]; then
    if ! [[ "$ASTERISK_RTP_PORTS" =~ ^([0-9]+)-([0-9]+)$ ]] || ((BASH_REMATCH[1] >= BASH_REMATCH[2])); then
      die "ASTERISK_RTP_PORTS='$ASTERISK_RTP_PORTS' is not a range like 10000-10099"
    fi
    printf '; Rendered from ASTERISK_RTP_PORTS: the range the container publishes.\n[general]\nrtpstart = %s\nrtpend = %s\n' \
      "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" >"$tmp/rtp.conf"
  fi
  for f in "$tmp"/*.conf; do
    [ -z "$(placeholders "$f")" ] || die "placeholders left in $(basename "$f"): $(placeholders "$f" | tr '\n' ' ')"
  done
  # Secrets are in ari.conf, manager.conf and pjsip.conf: readable by Asterisk's group only.
  chmod 0750 "$tmp"; chmod 0640 "$tmp"/*
  if id asterisk >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then chown -R root:asterisk "$tmp"; fi
  mkdir -p "$ETC"
  find "$ETC" -mindepth 1 -delete
  cp -a "$tmp/." "$ETC/"
  chmod 0750 "$ETC"
  if id asterisk >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then chown root:asterisk "$ETC"; fi
  rm -rf "$tmp"
  trap - EXIT
}

render
case "${1:-}" in
  render) ;;
  *)
    # Debian's unit creates the run directory (RuntimeDirectory=asterisk); no systemd here.
    if [ "$(id -u)" -eq 0 ]; then install -d -o asterisk -g asterisk -m 0750 /run/asterisk; fi ;;
esac
case "${1:-}" in
  render) exit 0 ;;
  # umask 027: recordings (MixMonitor) and other files Asterisk writes are not world-readable.
  "") umask 027; exec /usr/sbin/asterisk -f -U asterisk -G asterisk ;;
  *) exec "$@" ;;
esac
