#!/usr/bin/env bash
# Regenerates the default loop library in loops/ from the shared datasets and registry
# packages, reproducibly: renders WAV through `ubiq loops build`, compresses every loop to
# Ogg Vorbis (sox), points the indexes at the .ogg files and caches the embeddings.
#
# Needs: ../shared/datasets/{freedoom,simutrans,groove}; Debian packages fluid-soundfont-gm,
# sonic-pi-samples and sox (installed here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/datasets}
SF2=${SF2:-/usr/share/sounds/sf2/FluidR3_GM.sf2}
SAMPLES=${SAMPLES:-/usr/share/sonic-pi/samples}
RHYTHM=${RHYTHM:-2000}
need=()
[ -f "$SF2" ] || need+=(fluid-soundfont-gm)
[ -d "$SAMPLES" ] || need+=(sonic-pi-samples)
command -v sox >/dev/null || need+=(sox libsox-fmt-all)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
cargo build --release --quiet
UBIQ=${CARGO_TARGET_DIR:-target}/release/ubiq
rm -rf loops/music loops/ambient loops/voice loops/rhythm
"$UBIQ" loops build --library loops \
  --midi "$DATA/freedoom" "$DATA/simutrans" --soundfont "$SF2" \
  --groove "$DATA/groove" --rhythm-count "$RHYTHM" --samples "$SAMPLES"
for set in music ambient voice rhythm; do
  [ -d "loops/$set" ] || continue
  quality=3
  [ "$set" = rhythm ] && quality=-1
  for wav in loops/$set/*.wav; do
    [ -e "$wav" ] || continue
    sox "$wav" -C "$quality" "${wav%.wav}.ogg"
    rm "$wav"
  done
  sed -i 's/\.wav"/.ogg"/' "loops/$set/index.ron"
done
"$UBIQ" loops embed --library loops
du -sh loops
