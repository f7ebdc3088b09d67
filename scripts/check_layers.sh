#!/usr/bin/env bash
# Checks the include graph between folders (ctest entry `layers`; no build needed):
#   - no framework/ file includes experiments/;
#   - no cycle between framework modules (framework/<module>/, subfolders included);
#   - no cycle between experiment folders (experiments/<folder>/; the files directly in
#     experiments/ - the run config and the table of experiments - count as one node).
# Prints the offending includes and exits 1; exit 0 when the layers hold.
set -euo pipefail
cd "$(dirname "$0")/.."

module_of() {  # framework/model/tokenizer/bpe.cpp -> framework/model; experiments/run_config.h -> experiments
  local path=$1 top rest
  top=${path%%/*}
  rest=${path#*/}
  if [[ "$rest" == */* ]]; then echo "$top/${rest%%/*}"; else echo "$top"; fi
}

files=$(git ls-files 'framework/*.cpp' 'framework/*.h' 'experiments/*.cpp' 'experiments/*.h')
[[ -n "$files" ]] || { echo "layers: no framework/ or experiments/ sources found under $PWD" >&2; exit 2; }
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
status=0
while IFS= read -r file; do
  from=$(module_of "$file")
  while IFS= read -r inc; do
    to=$(module_of "$inc")
    [[ "$to" == "$from" ]] && continue
    if [[ "$from" == framework* && "$to" == experiments* ]]; then
      echo "layers: $file includes $inc: framework/ must not include experiments/" >&2
      status=1
    fi
    echo "$from $to $file $inc" >> "$edges"
  done < <(sed -n 's/^#include "\(\(framework\|experiments\)\/[^"]*\)".*/\1/p' "$file")
done <<< "$files"

# tsort names one loop's members on stderr; list the includes that make it up.
for side in framework experiments; do
  loop=$(awk -v s="$side" 'index($1, s) == 1 && index($2, s) == 1 {print $1, $2}' "$edges" | sort -u | tsort 2>&1 >/dev/null |
         sed -n 's/^tsort: //p' | grep -v 'input contains a loop' | sort -u || true)
  if [[ -n "$loop" ]]; then
    echo "layers: include cycle between $side folders: $(echo $loop | tr '\n' ' ')" >&2
    members=" $(echo $loop | tr '\n' ' ') "
    awk -v m="$members" 'index(m, " " $1 " ") && index(m, " " $2 " ") {print "  " $3 " -> " $4}' "$edges" >&2
    status=1
  fi
done
[[ $status -eq 0 ]] && echo "layers: no framework file includes experiments/; no include cycle between folders"
exit $status
