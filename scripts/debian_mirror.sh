#!/usr/bin/env bash
# Prints the Debian mirror that apt on this machine uses, for debootstrap: the first URI of a
# "deb" source of the main archive (not debian-security), from the deb822 files
# <apt dir>/sources.list.d/*.sources ("URIs:") first, then the one-line format of
# <apt dir>/sources.list and sources.list.d/*.list ("deb [options] URI suite ..."). A machine
# behind a company mirror has no other way to reach Debian. MALL_DEBIAN_MIRROR overrides it.
# Usage: debian_mirror.sh [apt dir, default /etc/apt]; exits 1 when no source is found.
set -euo pipefail

if [ -n "${MALL_DEBIAN_MIRROR:-}" ]; then
  echo "$MALL_DEBIAN_MIRROR"
  exit 0
fi

apt_dir=${1:-/etc/apt}
shopt -s nullglob

# deb822: stanzas separated by blank lines; a stanza may turn itself off with "Enabled: no".
for file in "$apt_dir"/sources.list.d/*.sources; do
  uri=$(awk '
    function flush() {
      if (!found && types ~ /(^| )deb( |$)/ && enabled != "no" && uris != "") {
        n = split(uris, u, " ")
        for (i = 1; i <= n; i++) if (u[i] !~ /security/) { print u[i]; found = 1; exit }
      }
      types = ""; uris = ""; enabled = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    tolower($1) == "types:" { $1 = ""; types = $0 " " }
    tolower($1) == "uris:" { $1 = ""; sub(/^ +/, ""); uris = $0 }
    tolower($1) == "enabled:" { enabled = tolower($2) }
    END { flush() }
  ' "$file")
  if [ -n "$uri" ]; then
    echo "${uri%/}"
    exit 0
  fi
done

for file in "$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list; do
  [ -f "$file" ] || continue
  uri=$(awk '
    $1 != "deb" { next }
    { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } }
    $i !~ /security/ { print $i; exit }
  ' "$file")
  if [ -n "$uri" ]; then
    echo "${uri%/}"
    exit 0
  fi
done

echo "debian_mirror: no deb source in $apt_dir/sources.list.d/*.sources or $apt_dir/sources.list;" \
  "set MALL_DEBIAN_MIRROR" >&2
exit 1
