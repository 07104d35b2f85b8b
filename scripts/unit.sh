#!/bin/bash
# make unit: the type-check (and build), ESLint and Prettier side by side, and the root-free tests as
# soon as the build is there (two cores: ESLint's type-aware pass is the longest path). No root, no
# namespaces, only Node.
set -u
cd "$(dirname "$0")/.."
test -x node_modules/.bin/tsc || { echo 'make unit: no node modules: run npm ci first' >&2; exit 2; }
node_modules/.bin/eslint --cache --cache-location .eslintcache src test bench scripts eslint.config.js & lint=$!
node_modules/.bin/prettier --check --log-level warn . & fmt=$!
failed=0
if node_modules/.bin/tsc -p tsconfig.json; then
  node scripts/run-tests.mjs --unit || failed=1
else
  echo 'make unit: the type-check failed' >&2
  failed=1
fi
wait $lint || { echo 'make unit: ESLint found problems' >&2; failed=1; }
wait $fmt || { echo 'make unit: not formatted (make format)' >&2; failed=1; }
exit $failed
