#!/usr/bin/env bash
# `make demo`: a first look in one command. Starts outfalld on a fresh demo folder, seeds it with a
# small campaign in 焦作市 (410800) made only through the real API (outfallctl and plain JSON
# calls), prints where to look and every account, then serves in the foreground (Ctrl-C stops it).
#
# Usage: tools/demo.sh [--data DIR] [--listen HOST:PORT] [--no-serve] [-- SERVER_FLAG ...]
#   --data DIR          the demo folder (env DEMO_DATA; default ./demo-data). A new or empty folder
#                       is seeded; a finished demo folder is served as it is; anything else is
#                       refused, so a real data folder is never touched.
#   --listen HOST:PORT  where to serve (default 127.0.0.1:8080; port 0 picks a free one)
#   --no-serve          seed (when needed), print, stop the server and exit 0 (tests use it)
#   -- SERVER_FLAG ...  more flags for outfalld, e.g. -- --tile-url URL --public-url URL
# Env: OUTFALLD, OUTFALLCTL (default build/release/...), OUTFALL_FIXTURES (default tests/fixtures).
# Needs bash, curl and jq. Any refused step stops the demo with the server's answer printed.
set -euo pipefail
# The demo talks only to its own server: no proxy in between.
unset http_proxy https_proxy all_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY

data=${DEMO_DATA:-./demo-data}
listen=127.0.0.1:8080
serve=1
server_flags=()
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; server_flags=("$@"); break ;;
    --data) data=${2:?--data needs a folder}; shift 2 ;;
    --listen) listen=${2:?--listen needs HOST:PORT}; shift 2 ;;
    --no-serve) serve=0; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
OUTFALLD=${OUTFALLD:-build/release/outfalld}
OUTFALLCTL=${OUTFALLCTL:-build/release/outfallctl}
fixtures=${OUTFALL_FIXTURES:-tests/fixtures}
web=$(cd "$(dirname "$0")/.." && pwd)/web
for tool in curl jq "$OUTFALLD" "$OUTFALLCTL"; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is missing (make deps build)" >&2; exit 1; }
done

die() { echo "demo: $*" >&2; exit 1; }

# ---- the folder: fresh (seed it), a finished demo (serve it), or refused -----------------------
meta=$data/demo                  # the demo's own files: marker, accounts, phone keys, server log
if [ -f "$meta/seeded" ]; then
  fresh=0
elif [ -e "$data" ] && [ -n "$(ls -A "$data")" ]; then
  if [ -f "$meta/DEMO" ]; then
    die "$data holds an unfinished demo (a step failed): remove it (rm -r $data) and run again"
  fi
  die "$data is not empty and is no demo folder: refusing to touch it (DEMO_DATA=... for another)"
else
  fresh=1
  [ -e "$data" ] && made_dir=0 || made_dir=1
  mkdir -p "$meta"
  chmod 700 "$meta"
  echo "outfall demo folder, made by tools/demo.sh $(date -u +%FT%TZ)" >"$meta/DEMO"
fi

# ---- the server --------------------------------------------------------------------------------
admin_password=demo-admin-pass
rm -f "$meta/ready"
OUTFALL_ADMIN_PASSWORD=$admin_password "$OUTFALLD" --data "$data" --listen "$listen" \
  --web "$web" --ready-file "$meta/ready" "${server_flags[@]}" >>"$meta/server.log" 2>&1 &
server_pid=$!
stop_server() {
  if [ -n "${server_pid:-}" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
trap stop_server EXIT
trap 'exit 130' INT TERM
# A server that does not start (its port taken, say) leaves a fresh folder as it found it.
not_started() {
  tail -20 "$meta/server.log" >&2
  stop_server
  if [ "$fresh" = 1 ]; then
    if [ "$made_dir" = 1 ]; then rm -rf -- "$data"; else find "$data" -mindepth 1 -delete; fi
  fi
  die "the server did not start ($1)"
}
for _ in $(seq 1 300); do
  [ -s "$meta/ready" ] && break
  kill -0 "$server_pid" 2>/dev/null || not_started "it exited; its log is above"
  sleep 0.1
done
[ -s "$meta/ready" ] || not_started "not ready in 30 s"
url=http://$(cat "$meta/ready")
export OUTFALL_SERVER=$url

# ---- API helpers: each stops the demo with the server's answer when a call is refused ----------
# api METHOD PATH TOKEN [JSON]: the answer's body on stdout.
api() {
  local method=$1 path=$2 token=$3 body=${4-} out status
  local args=(-sS -X "$method" -H 'Accept: application/json' -w '%{http_code}')
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  out=$(mktemp)
  status=$(curl "${args[@]}" -o "$out" "$url$path") || { rm -f "$out"; die "$method $path: no answer"; }
  if [[ $status != 2* ]]; then
    echo "demo: $method $path answered $status: $(cat "$out")" >&2
    rm -f "$out"
    exit 1
  fi
  cat "$out"
  rm -f "$out"
}

uuid() { cat /proc/sys/kernel/random/uuid; }
now_ms() { echo $(($(date +%s) * 1000)); }
# A day relative to today in China Standard Time, e.g. day -30 → 30 days ago, YYYY-MM-DD.
day() { TZ=Asia/Shanghai date -d "today $1 days" +%F; }

declare -A token seq
# login USER PASSWORD: keeps the user's bearer token in token[USER].
login() {
  token[$1]=$(api POST /v1/auth/login "" "$(jq -nc --arg u "$1" --arg p "$2" '{username:$u,password:$p}')" |
    jq -r .token)
}

# account USER ROLE PASSWORD DIVISION...: outfallctl users add, noted in accounts.tsv.
account() {
  local user=$1 role=$2 password=$3
  shift 3
  local divs=() d
  for d in "$@"; do divs+=(--division "$d"); done
  OUTFALL_TOKEN=${token[admin]} OUTFALL_NEW_PASSWORD=$password \
    "$OUTFALLCTL" users add "$user" --role "$role" "${divs[@]}" >/dev/null ||
    die "outfallctl users add $user refused (above)"
  printf '%s\t%s\t%s\t%s\n' "$user" "$role" "$*" "$password" >>"$meta/accounts.tsv"
  login "$user" "$password"
}

# phone USER DEVICE NAME: outfallctl device enroll, the key kept in the demo folder.
phone() {
  OUTFALL_TOKEN=${token[$1]} "$OUTFALLCTL" device enroll --id "$2" --name "$3" \
    --key "$meta/$2.key" >/dev/null || die "outfallctl device enroll $2 refused (above)"
  seq[$2]=0
}

# push USER DEVICE "STATUS ..." CHANGES_JSON: one signed batch (outfallctl push); each change's
# result must have the status named at its place (APPLIED, CONFLICT, DUPLICATE_SUSPECT ...).
push() {
  local user=$1 device=$2 want=$3 changes=$4 file got
  seq[$device]=$((seq[$device] + 1))
  file=$meta/batch-$device-${seq[$device]}.json
  printf '%s\n' "$changes" >"$file"
  got=$(OUTFALL_TOKEN=${token[$user]} "$OUTFALLCTL" push "$file" --key "$meta/$device.key" \
    --seq "${seq[$device]}") || die "outfallctl push $file refused (above)"
  local statuses
  statuses=$(jq -r '[.results[] | .status | sub("CHANGE_STATUS_"; "")] | join(" ")' <<<"$got")
  [ "$statuses" = "$want" ] || { echo "$got" >&2; die "batch $file: results $statuses, expected $want"; }
  rm -f "$file"
}

# upload USER FILE...: outfallctl photos upload of those fixture photos, as USER.
upload() {
  local user=$1 dir
  shift
  dir=$(mktemp -d)
  local f
  for f in "$@"; do cp "$fixtures/photos/$f" "$dir/"; done
  OUTFALL_TOKEN=${token[$user]} "$OUTFALLCTL" photos upload "$dir" >/dev/null 2>&1 ||
    { rm -rf "$dir"; die "outfallctl photos upload as $user refused"; }
  rm -rf "$dir"
}
hash_of() { awk -F'\t' -v f="$1" '$1 == f {print $2}' "$fixtures/photos/MANIFEST.tsv"; }

version_of() { api GET "/v1/outfalls/$1" "${token[admin]}" | jq -r .version; }

# decide USER ID KIND [COMMENT]: a review decision at the outfall's current version.
decide() {
  local body
  body=$(jq -nc --arg d "$(uuid)" --arg k "DECISION_KIND_$3" --arg o "$2" \
    --arg v "$(version_of "$2")" --arg c "${4-}" \
    '{decisionId:$d,kind:$k,outfallId:$o,baseVersion:$v} + (if $c == "" then {} else {comment:$c} end)')
  api POST /v1/review/decisions "${token[$1]}" "$body" >/dev/null
}

# move USER ID STAGE DATE [EXTRA_JSON]: a lifecycle transition at the outfall's current version.
move() {
  local body extra=${5:-'{}'}
  body=$(jq -nc --arg t "$(uuid)" --arg o "$2" --arg v "$(version_of "$2")" \
    --arg s "LIFECYCLE_STAGE_$3" --arg d "$4" --argjson x "$extra" \
    '{transitionId:$t,outfallId:$o,baseVersion:$v,toStage:$s,effectiveDate:$d} + $x')
  api POST /v1/programme/transitions "${token[$1]}" "$body" >/dev/null
}

# A valid 统一社会信用代码 (GB 32100-2015) from its first 17 characters.
credit_code() {
  local alphabet=0123456789ABCDEFGHJKLMNPQRTUWXY first=$1 sum=0 w=1 i c v
  for ((i = 0; i < 17; i++)); do
    c=${first:i:1}
    v=${alphabet%%"$c"*}
    sum=$((sum + ${#v} * w))
    w=$((w * 3 % 31))
  done
  echo "$first${alphabet:$(((31 - sum % 31) % 31)):1}"
}

# outfall ID NAME TYPE RIVER DIVISION LAT LON LANDMARK ENTRY: a new outfall as a change (JSON).
outfall() {
  jq -nc --arg id "$1" --arg n "$2" --arg t "OUTFALL_TYPE_$3" --arg r "$4" --arg d "$5" \
    --argjson lat "$6" --argjson lon "$7" --arg l "$8" --arg e "ENTRY_METHOD_$9" --arg ms "$(now_ms)" \
    --arg c "$(uuid)" '{changeId:$c,entityId:$id,baseVersion:"0",clientTimeMs:$ms,outfall:{name:$n,type:$t,
      riverCode:$r,divisionCode:$d,lat:$lat,lon:$lon,accuracyM:4,landmark:$l,entryMethod:$e,
      dischargeRegime:"DISCHARGE_REGIME_CONTINUOUS",surveyLevel:"SURVEY_LEVEL_WALK"}}'
}

# observation OUTFALL LAT LON AT_MS NOTES [PHOTOS_JSON]: a new observation as a change (JSON).
observation() {
  jq -nc --arg c "$(uuid)" --arg id "$(uuid)" --arg o "$1" --argjson lat "$2" --argjson lon "$3" \
    --arg at "$4" --arg n "$5" --argjson p "${6-[]}" \
    '{changeId:$c,entityId:$id,baseVersion:"0",clientTimeMs:$at,observation:{outfallId:$o,
      observedAtMs:$at,lat:$lat,lon:$lon,accuracyM:5,flowing:true,colour:"灰黑色",odour:"轻微异味",
      notes:$n,photos:$p}}'
}

seed() {
  echo "demo: seeding $data through $url ..."
  login admin "$admin_password"
  printf 'admin\tadmin\t410800\t%s\n' "$admin_password" >"$meta/accounts.tsv"

  # Accounts for every role: the city, three counties (沁阳市, 孟州市, 博爱县), surveyors, two
  # city-wide inspectors for the random draw, an integrator, a second admin.
  account city.wang supervisor demo-city-pass 410800
  account qinyang.li supervisor demo-qinyang-pass 410882
  account mengzhou.zhao supervisor demo-mengzhou-pass 410883
  account boai.sun supervisor demo-boai-pass 410822
  account chen.surveyor surveyor demo-chen-pass 410882
  account liu.surveyor surveyor demo-liu-pass 410882
  account zhou.surveyor surveyor demo-zhou-pass 410883 410822
  account wu.inspector surveyor demo-wu-pass 410800
  account zheng.inspector surveyor demo-zheng-pass 410800
  account platform.henan integrator demo-platform-pass 410800
  account ops.admin admin demo-ops-pass 410800

  # Two phones in 沁阳市, one in 孟州市 and 博爱县, one per inspector.
  phone chen.surveyor phone-chen "陈工的手机"
  phone liu.surveyor phone-liu "刘工的手机"
  phone zhou.surveyor phone-zhou "周工的手机"
  phone wu.inspector phone-wu "吴工的手机"
  phone zheng.inspector phone-zheng "郑工的手机"

  # The field photos (tests/fixtures/photos), each uploaded by the surveyors who name them.
  upload chen.surveyor qinhe-outfall-a-1.jpg qinhe-outfall-a-2.jpg no-gps.jpg
  upload liu.surveyor qinhe-outfall-a-2.jpg far-from-claimed-site.jpg
  upload zhou.surveyor no-exif.jpg
  local a1 a2 nogps far noexif
  a1=$(hash_of qinhe-outfall-a-1.jpg) a2=$(hash_of qinhe-outfall-a-2.jpg)
  nogps=$(hash_of no-gps.jpg) far=$(hash_of far-from-claimed-site.jpg) noexif=$(hash_of no-exif.jpg)

  # ---- 沁阳市 on 沁河 and 济河: chen's phone finds nine outfalls ----
  local zz ym hg jy cz xt sk dm nc dup
  zz=$(uuid) ym=$(uuid) hg=$(uuid) jy=$(uuid) cz=$(uuid) xt=$(uuid) sk=$(uuid) dm=$(uuid)
  nc=$(uuid) dup=$(uuid)
  push chen.surveyor phone-chen "APPLIED APPLIED APPLIED APPLIED APPLIED APPLIED APPLIED APPLIED" "[
    $(outfall "$zz" 张庄村东排口 RURAL_SEWAGE_SCATTERED qinhe 410882 35.08621 112.95124 张庄村东桥下 PIPE),
    $(outfall "$ym" 沁阳市第一污水处理厂排污口 MUNICIPAL_WWTP qinhe 410882 35.0931 112.9712 污水处理厂东墙外 PIPE),
    $(outfall "$hg" 华光造纸厂排污口 INDUSTRIAL_ENTERPRISE qinhe 410882 35.1012 112.9850 造纸厂北门 BOX_CULVERT),
    $(outfall "$jy" 西向镇养殖场排口 LIVESTOCK_SMALL qinhe 410882 35.1105 112.9233 西向镇养殖场南 OPEN_CHANNEL),
    $(outfall "$cz" 崇义镇散排口 RURAL_SEWAGE_SCATTERED jihe 410882 35.0721 112.9015 崇义镇西街 PIPE),
    $(outfall "$xt" 紫陵镇鑫泰化工排口 INDUSTRIAL_ENTERPRISE jihe 410882 35.0655 112.9391 化工厂南侧 PIPE),
    $(outfall "$sk" 山王庄镇水库溢流口 OTHER jihe 410882 35.0588 112.9520 水库坝下 SLUICE),
    $(outfall "$dm" 覃怀路雨水口 URBAN_STORM qinhe 410882 35.0866 112.9590 覃怀路桥 PIPE)
  ]"
  # The field set of the first outfall: photos taken on the spot (EXIF time and position).
  local photo_ms
  photo_ms=$(($(date -d '2026-03-14 10:23:00 +0800' +%s) * 1000))
  push chen.surveyor phone-chen "APPLIED" "[$(observation "$zz" 35.08621 112.95124 "$photo_ms" \
    '管口直径约30厘米，持续排水' "[{\"hash\":\"$a1\",\"kind\":\"PHOTO_KIND_NEAR\"},
      {\"hash\":\"$a2\",\"kind\":\"PHOTO_KIND_FAR\"}]")]"

  # A conflict: both phones pulled 崇义镇散排口 at version 1, then renamed its landmark offline.
  push chen.surveyor phone-chen "APPLIED" "[{\"changeId\":\"$(uuid)\",\"entityId\":\"$cz\",
    \"baseVersion\":\"1\",\"clientTimeMs\":\"$(now_ms)\",\"outfall\":{\"landmark\":\"崇义镇西街石桥北\"}}]"
  push liu.surveyor phone-liu "CONFLICT" "[{\"changeId\":\"$(uuid)\",\"entityId\":\"$cz\",
    \"baseVersion\":\"1\",\"clientTimeMs\":\"$(now_ms)\",\"outfall\":{\"landmark\":\"崇义镇西街农贸市场后\"}}]"

  # The second phone's observation of the first outfall (its photo was taken elsewhere: flagged).
  push liu.surveyor phone-liu "APPLIED" "[$(observation "$zz" 35.08625 112.95130 "$(now_ms)" \
    '复查：水量减少，颜色偏灰' "[{\"hash\":\"$far\",\"kind\":\"PHOTO_KIND_SURROUNDINGS\"}]")]"

  # A duplicate pair: chen's phone finds 南寨村涵闸, and liu's finds it again 10 m away on the same
  # river (both wait in the queue).
  push chen.surveyor phone-chen "APPLIED" "[
    $(outfall "$nc" 南寨村涵闸 DITCH_CHANNEL qinhe 410882 35.1180 112.9102 南寨村北 SLUICE)]"
  push liu.surveyor phone-liu "DUPLICATE_SUSPECT" "[
    $(outfall "$dup" 南寨村北涵闸 DITCH_CHANNEL qinhe 410882 35.11809 112.9102 南寨村北桥 SLUICE)]"

  # ---- 孟州市 on 黄河 and 蟒河, 博爱县 on 丹河: zhou's phone ----
  local hh mh dh1 dh2
  hh=$(uuid) mh=$(uuid) dh1=$(uuid) dh2=$(uuid)
  push zhou.surveyor phone-zhou "APPLIED APPLIED APPLIED APPLIED" "[
    $(outfall "$hh" 孟州市污水处理厂排污口 MUNICIPAL_WWTP huanghe 410883 34.8890 112.7901 黄河大堤内侧 PIPE),
    $(outfall "$mh" 化工园区污水处理厂排口 PARK_WWTP manghe 410883 34.9102 112.7450 园区东门 PIPE),
    $(outfall "$dh1" 许良镇散排口 RURAL_SEWAGE_SCATTERED danhe 410822 35.1650 113.0480 许良镇东 OPEN_CHANNEL),
    $(outfall "$dh2" 月山镇养殖场排口 LIVESTOCK_LARGE danhe 410822 35.1802 113.0655 养殖场北 PIPE)
  ]"
  push zhou.surveyor phone-zhou "APPLIED" "[$(observation "$dh1" 35.1650 113.0480 "$(now_ms)" \
    '枯水期仍有排水' "[{\"hash\":\"$noexif\",\"kind\":\"PHOTO_KIND_NEAR\"}]")]"

  # ---- review: approvals, a return with its comment, a rejection ----
  local id
  for id in "$zz" "$ym" "$hg" "$jy" "$xt" "$sk" "$dm"; do decide qinyang.li "$id" APPROVE; done
  for id in "$hh" "$mh"; do decide mengzhou.zhao "$id" APPROVE; done
  decide boai.sun "$dh1" APPROVE
  decide boai.sun "$dh2" RETURN "照片缺少远景和标志牌，请补拍后重新提交"

  # ---- a drinking-water protection zone around 华光造纸厂 (only a ban may be planned inside) ----
  api POST /v1/zones "${token[admin]}" '{"type":"FeatureCollection","features":[{"type":"Feature",
    "id":"qinhe-water-1","properties":{"name":"沁河沁阳段饮用水水源一级保护区","kind":"drinking_water"},
    "geometry":{"type":"Polygon","coordinates":[[[112.980,35.097],[112.990,35.097],[112.990,35.105],
    [112.980,35.105],[112.980,35.097]]]}}]}' >/dev/null

  # ---- the lifecycle: a record at each stage ----
  # 张庄村东排口: found on the day of its photos (FOUND), then traced to the village.
  move qinyang.li "$zz" FOUND "$(day 0)"
  # 沁阳市第一污水处理厂: traced (TRACED) to the plant's operator.
  move qinyang.li "$ym" FOUND "$(day 0)"
  move qinyang.li "$ym" TRACED "$(day 0)" "{\"responsibleParty\":{\"name\":\"沁阳市清源水务有限公司\",
    \"creditCode\":\"$(credit_code 91410882MA44R7LT0)\",\"phone\":\"0391-5612345\",\"contact\":\"赵经理\"}}"
  # 华光造纸厂: traced and planned (BAN) with a deadline months away.
  move qinyang.li "$hg" FOUND "$(day 0)"
  move qinyang.li "$hg" TRACED "$(day 0)" "{\"responsibleParty\":{\"name\":\"沁阳市华光纸业有限公司\",
    \"creditCode\":\"$(credit_code 91410882MA45HG0X1)\",\"phone\":\"0391-5623456\"}}"
  move qinyang.li "$hg" PLANNED "$(day 0)" "{\"plan\":{\"measure\":\"REMEDIATION_MEASURE_BAN\",
    \"deadline\":\"$(day 180)\",\"notes\":\"停产整改，拆除排污管道\",\"blocksOutfall\":true,
    \"safetyNote\":\"封堵前与河务部门确认汛期排涝安排\"}}"
  # 西向镇养殖场: tracing failed (the county government answers), planned REGULARIZE. All dates are
  # today's: the engine refuses a date before an outfall's first observation (docs/programme.md,
  # Dates), and every record here is first seen today, so no plan can be overdue yet.
  move qinyang.li "$jy" FOUND "$(day 0)"
  move qinyang.li "$jy" TRACED "$(day 0)" '{"partyBasis":"PARTY_BASIS_COUNTY_GOVERNMENT"}'
  move qinyang.li "$jy" PLANNED "$(day 0)" "{\"plan\":{\"measure\":\"REMEDIATION_MEASURE_REGULARIZE\",
    \"deadline\":\"$(day 30)\",\"notes\":\"建设化粪池并规范排口标志\"}}"
  # 紫陵镇鑫泰化工: banned, remediated with evidence (a photo of the plugged pipe), then closed.
  move qinyang.li "$xt" FOUND "$(day 0)"
  move qinyang.li "$xt" TRACED "$(day 0)" "{\"responsibleParty\":{\"name\":\"沁阳市鑫泰化工有限公司\",
    \"creditCode\":\"$(credit_code 91410882MA46XT0Y2)\",\"phone\":\"0391-5634567\"}}"
  move qinyang.li "$xt" PLANNED "$(day 0)" "{\"plan\":{\"measure\":\"REMEDIATION_MEASURE_BAN\",
    \"deadline\":\"$(day 60)\",\"blocksOutfall\":true,\"safetyNote\":\"非汛期施工\"}}"
  push chen.surveyor phone-chen "APPLIED" "[$(observation "$xt" 35.0655 112.9391 "$(now_ms)" \
    '排污管已拆除封堵' "[{\"hash\":\"$nogps\",\"kind\":\"PHOTO_KIND_REMEDIATION_DONE\"}]")]"
  move qinyang.li "$xt" REMEDIATED "$(day 0)"
  move qinyang.li "$xt" CLOSED "$(day 0)" '{"comment":"现场核查已拆除，同意销号"}'
  # 山王庄镇水库溢流口: no remediation needed, on the retained list.
  move qinyang.li "$sk" FOUND "$(day 0)"
  move qinyang.li "$sk" TRACED "$(day 0)" '{"partyBasis":"PARTY_BASIS_COUNTY_GOVERNMENT"}'
  move qinyang.li "$sk" PLANNED "$(day 0)" '{"plan":{"measure":"REMEDIATION_MEASURE_NONE","notes":"水库溢流，无需整治"}}'
  move qinyang.li "$sk" REMEDIATED "$(day 0)"
  move qinyang.li "$sk" RETAINED "$(day 0)" '{"comment":"列入保留排污口清单"}'
  # 孟州市污水处理厂: regularized, remediated with evidence, waiting for verification.
  move mengzhou.zhao "$hh" FOUND "$(day 0)"
  move mengzhou.zhao "$hh" TRACED "$(day 0)" "{\"responsibleParty\":{\"name\":\"孟州市碧水源污水处理有限公司\",
    \"creditCode\":\"$(credit_code 91410883MA47BW0Y3)\",\"phone\":\"0391-8123456\"}}"
  move mengzhou.zhao "$hh" PLANNED "$(day 0)" "{\"plan\":{\"measure\":\"REMEDIATION_MEASURE_REGULARIZE\",
    \"deadline\":\"$(day 5)\",\"notes\":\"安装在线监测并设置标志牌\"}}"
  push zhou.surveyor phone-zhou "APPLIED" "[$(observation "$hh" 34.8890 112.7901 "$(now_ms)" \
    '在线监测已安装，标志牌已设置' "[{\"hash\":\"$noexif\",\"kind\":\"PHOTO_KIND_REMEDIATION_DONE\"}]")]"
  move mengzhou.zhao "$hh" REMEDIATED "$(day 0)"

  # ---- a random draw (双随机、一公开) by the city, its inspectors' results, one approved ----
  local draw picks n=0 pick code inspector oid result
  draw=$(api POST /v1/inspections/draws "${token[city.wang]}" "{\"drawId\":\"$(uuid)\",\"sample\":3,
    \"weighted\":true,\"inspectors\":[{\"name\":\"wu.inspector\",\"divisionCode\":\"410882\"},
    {\"name\":\"zheng.inspector\",\"divisionCode\":\"410883\"}]}")
  jq -r .id <<<"$draw" >"$meta/draw"
  picks=$(jq -r '.picks[] | "\(.code) \(.inspector)"' <<<"$draw")
  local all
  all=$(api GET '/v1/outfalls?limit=100' "${token[city.wang]}")
  while read -r code inspector; do
    n=$((n + 1))
    pick=$(jq -c --arg c "$code" '.outfalls[] | select(.code == $c) | {id, lat, lon}' <<<"$all")
    oid=$(uuid)
    result=$([ "$n" = 2 ] && echo ISSUES_FOUND || echo COMPLIANT)
    push "$inspector" "phone-${inspector%%.*}" "APPLIED" "[$(jq -nc --arg c "$(uuid)" --arg id "$oid" \
      --argjson p "$pick" --arg d "$(jq -r .id <<<"$draw")" --arg r "INSPECTION_RESULT_$result" \
      --arg at "$(now_ms)" '{changeId:$c,entityId:$id,baseVersion:"0",clientTimeMs:$at,
        observation:{outfallId:$p.id,observedAtMs:$at,lat:$p.lat,lon:$p.lon,accuracyM:5,
        notes:"双随机抽查：现场核查",inspectionDrawId:$d,inspectionResult:$r}}')]"
    if [ "$n" = 1 ]; then
      api POST /v1/review/decisions "${token[city.wang]}" "{\"decisionId\":\"$(uuid)\",
        \"kind\":\"DECISION_KIND_APPROVE_INSPECTION\",\"outfallId\":$(jq '.id' <<<"$pick"),
        \"observationId\":\"$oid\",\"baseVersion\":\"1\"}" >/dev/null
    fi
  done <<<"$picks"

  # ---- public reports (举报): one answered, one waiting ----
  local number
  number=$(api POST /public/reports "" '{"kind":"REPORT_KIND_ILLEGAL_DISCHARGE","lat":35.1015,
    "lon":112.9852,"divisionCode":"410882","description":"造纸厂北门外夜间有黑色污水排入沁河，气味刺鼻。",
    "contact":"王先生 139****0000","outfallCode":""}' | jq -r .number)
  echo "$number" >"$meta/reports"
  api POST "/v1/reports/$number/answer" "${token[qinyang.li]}" "{\"answerId\":\"$(uuid)\",
    \"answer\":\"已到现场核查：该排口已列入取缔计划，企业已停产整改。感谢您的监督。\",\"outfallId\":\"$hg\"}" >/dev/null
  api POST /public/reports "" '{"kind":"REPORT_KIND_ILLEGAL_DISCHARGE","lat":35.1660,
    "lon":113.0490,"divisionCode":"410822","description":"许良镇东边沟渠连续几天有白色泡沫流入丹河。"}' |
    jq -r .number >>"$meta/reports"

  # ---- applications (设置审核): one under review, one approved, with their documents ----
  upload qinyang.li qinhe-outfall-a-1.jpg qinhe-outfall-a-2.jpg
  local app1 app2
  app1=$(uuid) app2=$(uuid)
  api POST /v1/applications "${token[qinyang.li]}" "{\"id\":\"$app1\",\"kind\":\"APPLICATION_KIND_SET_UP\",
    \"projectName\":\"沁阳市第二污水处理厂新建工程\",\"applicant\":{\"name\":\"沁阳市清源水务有限公司\",
    \"creditCode\":\"$(credit_code 91410882MA44R7LT0)\",\"contact\":\"赵经理\",\"phone\":\"0391-5612345\"},
    \"eiaLevel\":\"EIA_LEVEL_CITY\",\"lat\":35.0801,\"lon\":112.9655,\"divisionCode\":\"410882\",
    \"riverCode\":\"qinhe\",\"outfallType\":\"OUTFALL_TYPE_MUNICIPAL_WWTP\",\"affectsFloodControl\":true,
    \"documentHashes\":[\"$a1\",\"$a2\"]}" >/dev/null
  api POST /v1/applications/decisions "${token[qinyang.li]}" "{\"decisionId\":\"$(uuid)\",
    \"applicationId\":\"$app1\",\"toStatus\":\"APPLICATION_STATUS_UNDER_REVIEW\"}" >/dev/null
  api POST /v1/applications "${token[qinyang.li]}" "{\"id\":\"$app2\",\"kind\":\"APPLICATION_KIND_CHANGE\",
    \"projectName\":\"华光纸业排口迁建\",\"applicant\":{\"name\":\"沁阳市华光纸业有限公司\",
    \"creditCode\":\"$(credit_code 91410882MA45HG0X1)\"},\"eiaLevel\":\"EIA_LEVEL_COUNTY\",
    \"lat\":35.1102,\"lon\":112.9921,\"divisionCode\":\"410882\",\"riverCode\":\"qinhe\",
    \"outfallType\":\"OUTFALL_TYPE_INDUSTRIAL_ENTERPRISE\",\"documentHashes\":[\"$a2\"]}" >/dev/null
  local step
  for step in UNDER_REVIEW APPROVED; do
    api POST /v1/applications/decisions "${token[qinyang.li]}" "{\"decisionId\":\"$(uuid)\",
      \"applicationId\":\"$app2\",\"toStatus\":\"APPLICATION_STATUS_$step\"}" >/dev/null
  done

  date -u +%FT%TZ >"$meta/seeded"
  echo "demo: seeded."
}

[ "$fresh" = 1 ] && seed

# ---- where to look -----------------------------------------------------------------------------
cat <<EOF

  outfall demo: $data  (server log: $meta/server.log)

  console (supervisors, admins):  $url/
  field app (surveyors' phones):  $url/field/
  public pages:                   $url/public/outfalls   (reports: $url/public/reports/$(head -1 "$meta/reports"))
  random draw:                    $url/public/inspections/$(cat "$meta/draw")

  accounts (user, role, divisions, password):
EOF
awk -F'\t' '{printf "    %-16s %-11s %-14s %s\n", $1, $2, $3, $4}' "$meta/accounts.tsv"
echo
if [ "$serve" = 1 ]; then
  echo "  serving; Ctrl-C stops it."
  wait "$server_pid" || true
  server_pid=
fi
