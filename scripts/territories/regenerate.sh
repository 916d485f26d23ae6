#!/usr/bin/env bash
# Regenerates data/territories/ (communes.csv, epci.csv, departements.csv and
# SOURCE.md) from the npm package @etalab/decoupage-administratif.
#
# Downloads the pinned version with `npm pack`, checks the tarball's SHA-512
# against both the pinned integrity below and the one the registry reports
# (`npm view ... dist.integrity`), then runs generate.py on the extracted
# package. Needs bash, npm, tar and Python 3. The files are written to a
# temporary folder first and copied over only when generation succeeds.
#
# To move to another version, change VERSION and EXPECTED_INTEGRITY together:
# `npm view @etalab/decoupage-administratif@NEW dist.integrity` prints the new
# integrity. Published npm versions cannot be overwritten, so the pin only
# changes when the version does.
set -euo pipefail

PACKAGE="@etalab/decoupage-administratif"
VERSION="6.0.0"
EXPECTED_INTEGRITY="sha512-XavYsFlbcM/prKr8hNHPKER94IHw/dsxNM4nxjWMYk6PLFACpEedvn/7wK8Baozm0dCYhWWcf+7bcWpA5pmCaQ=="

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
output_dir="$repo_root/data/territories"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

registry_integrity="$(npm view "$PACKAGE@$VERSION" dist.integrity)"
if [[ "$registry_integrity" != "$EXPECTED_INTEGRITY" ]]; then
    echo "error: the registry reports integrity $registry_integrity for $PACKAGE@$VERSION," \
        "but this script pins $EXPECTED_INTEGRITY; update EXPECTED_INTEGRITY only after" \
        "checking why they differ" >&2
    exit 1
fi

# npm pack prints the tarball's file name as its last line of standard output.
tarball="$(cd "$work_dir" && npm pack --silent "$PACKAGE@$VERSION" | tail -n 1)"
tarball_path="$work_dir/$tarball"
if [[ ! -f "$tarball_path" ]]; then
    echo "error: npm pack did not produce $tarball_path" >&2
    exit 1
fi

tarball_integrity="sha512-$(python3 -c '
import base64, hashlib, sys
with open(sys.argv[1], "rb") as file:
    print(base64.b64encode(hashlib.sha512(file.read()).digest()).decode())
' "$tarball_path")"
if [[ "$tarball_integrity" != "$EXPECTED_INTEGRITY" ]]; then
    echo "error: $tarball has integrity $tarball_integrity, expected $EXPECTED_INTEGRITY;" \
        "delete it and check the npm cache (npm cache verify) before retrying" >&2
    exit 1
fi
echo "verified $tarball: $tarball_integrity"

tar -xzf "$tarball_path" -C "$work_dir"

mkdir -p "$work_dir/output"
python3 "$script_dir/generate.py" \
    --package-dir "$work_dir/package" \
    --output-dir "$work_dir/output" \
    --integrity "$tarball_integrity" \
    --generated-on "$(date -u +%Y-%m-%d)"

mkdir -p "$output_dir"
cp "$work_dir/output/communes.csv" "$work_dir/output/epci.csv" \
    "$work_dir/output/departements.csv" "$work_dir/output/SOURCE.md" "$output_dir/"
echo "copied the files to $output_dir"
