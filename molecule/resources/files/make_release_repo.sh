#!/bin/sh
# Turns the copied mall-server project into a git checkout with two tags:
# 1.0.0 (on Redis, checked out) and 2.0.0 (the Redis-free release), as a team
# that ships through git would have it.
set -eu
app=$1 overlay=$2
cd "$app"
printf '%s\n' venv/ logs/ run/ '.env*' '__pycache__/' >.gitignore
git init -q
git config user.email ops@mall.invalid
git config user.name "mall ops"
git add -A
git commit -qm "mall-server 1.0.0 (Redis cache)"
git tag 1.0.0
cp -a "$overlay"/. .
rm -f DELETED
while read -r gone; do git rm -q "$gone"; done <"$overlay/DELETED"
git add -A
git commit -qm "mall-server 2.0.0 (database cache, Redis removed)"
git tag 2.0.0
git checkout -q 1.0.0
