#!/usr/bin/env bash
# Make sure a RabbitMQ broker with the management plugin answers on this machine.
#
#   - broker on localhost:5672 and management API on localhost:15672 both answer: nothing to do;
#   - otherwise: install rabbitmq-server through apt when it is missing (root only), enable the
#     management plugin, start the broker detached and wait up to RABBITMQ_WAIT seconds (90).
#
# Idempotent and quiet when everything is already there. Exit status is non-zero, with a message
# saying what to do, when the broker cannot be brought up.
set -euo pipefail

AMQP_HOST=${RABBITMQ_HOST:-127.0.0.1}
AMQP_PORT=${RABBITMQ_PORT:-5672}
MGMT_URL=${RABBITMQ_MGMT_URL:-http://127.0.0.1:15672/api/overview}
MGMT_USER=${RABBITMQ_MGMT_USER:-guest}
MGMT_PASS=${RABBITMQ_MGMT_PASS:-guest}
WAIT_SECONDS=${RABBITMQ_WAIT:-90}

# Debian puts the RabbitMQ tools in /usr/sbin, which is not on every user's PATH.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

say() { echo "ensure-rabbitmq: $*"; }
die() {
  echo "ensure-rabbitmq: ERROR: $*" >&2
  exit 1
}

amqp_up() {
  timeout 3 bash -c "exec 3<>/dev/tcp/${AMQP_HOST}/${AMQP_PORT}" 2>/dev/null
}

mgmt_up() {
  python3 - "$MGMT_URL" "$MGMT_USER" "$MGMT_PASS" <<'PY' 2>/dev/null
import base64, sys, urllib.request
url, user, password = sys.argv[1:4]
req = urllib.request.Request(url)
token = base64.b64encode(f"{user}:{password}".encode()).decode()
req.add_header("Authorization", "Basic " + token)
with urllib.request.urlopen(req, timeout=3) as resp:
    sys.exit(0 if resp.status == 200 else 1)
PY
}

node_up() {
  rabbitmqctl -q status >/dev/null 2>&1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

if amqp_up && mgmt_up; then
  exit 0
fi

# --- install -----------------------------------------------------------------------------------
if ! command -v rabbitmq-server >/dev/null 2>&1; then
  is_root || die "rabbitmq-server is not installed and this is not root. Install it with
    sudo apt-get install -y rabbitmq-server
  or run this script as root (it installs it), or point AMQP_URI at an existing broker."
  command -v apt-get >/dev/null 2>&1 || die "rabbitmq-server is not installed and apt-get is not available."
  say "installing rabbitmq-server with apt (one time)..."
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends rabbitmq-server; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    die "apt-get could not install rabbitmq-server (output above)."
  fi
  rm -f "$log"
fi

# --- management plugin and start ---------------------------------------------------------------
if node_up; then
  if ! mgmt_up; then
    is_root || die "the broker runs but its management API does not answer on ${MGMT_URL}. Run as root:
    rabbitmq-plugins enable rabbitmq_management"
    say "enabling the management plugin..."
    rabbitmq-plugins -q enable rabbitmq_management >/dev/null ||
      die "rabbitmq-plugins enable rabbitmq_management failed."
  fi
else
  is_root || die "RabbitMQ is installed but not running, and starting it needs root. Run:
    sudo rabbitmq-plugins enable --offline rabbitmq_management && sudo rabbitmq-server -detached"
  rabbitmq-plugins -q enable --offline rabbitmq_management >/dev/null ||
    die "rabbitmq-plugins enable --offline rabbitmq_management failed."
  say "starting rabbitmq-server..."
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl start rabbitmq-server || die "systemctl start rabbitmq-server failed (see journalctl -u rabbitmq-server)."
  else
    rabbitmq-server -detached >/dev/null 2>&1 ||
      die "rabbitmq-server -detached failed (see /var/log/rabbitmq/)."
  fi
fi

# --- wait --------------------------------------------------------------------------------------
deadline=$((SECONDS + WAIT_SECONDS))
until node_up && amqp_up && mgmt_up; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    node_up || echo "  rabbitmqctl status: the node does not answer" >&2
    amqp_up || echo "  nothing listens on ${AMQP_HOST}:${AMQP_PORT}" >&2
    mgmt_up || echo "  the management API does not answer on ${MGMT_URL} (user ${MGMT_USER})" >&2
    for f in /var/log/rabbitmq/rabbit@*.log; do
      case "$f" in *_upgrade.log | *'*'*) ;; *) echo "  last lines of $f:" >&2 && tail -n 15 "$f" >&2 ;; esac
    done
    die "RabbitMQ did not come up within ${WAIT_SECONDS}s."
  fi
  sleep 1
done
say "RabbitMQ is up (amqp ${AMQP_HOST}:${AMQP_PORT}, management ${MGMT_URL%/api/overview})."
