#!/usr/bin/env bash
# Builds the default sample kit, kits/sonic-pi, from Sonic Pi's CC0 drum samples (Debian
# package sonic-pi-samples, installed here when missing): copies the samples it plays and
# writes kit.ron and the credits. Reproducible: the same package gives the same kit.
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${SAMPLES:-/usr/share/sonic-pi/samples}
COPYRIGHT=${COPYRIGHT:-/usr/share/doc/sonic-pi-samples/copyright}
if [ ! -d "$SAMPLES" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sonic-pi-samples
fi
KIT=kits/sonic-pi
FILES=(bd_haus drum_snare_soft drum_snare_hard drum_cymbal_pedal drum_cymbal_closed
  drum_cymbal_open drum_tom_lo_soft drum_tom_lo_hard drum_tom_mid_soft drum_tom_mid_hard
  drum_tom_hi_soft drum_tom_hi_hard drum_cymbal_soft drum_cymbal_hard elec_cymbal)
rm -rf "$KIT"
mkdir -p "$KIT"
for f in "${FILES[@]}"; do
  cp "$SAMPLES/$f.flac" "$KIT/"
done
cat > "$KIT/kit.ron" <<'RON'
// The default sample kit: Sonic Pi's CC0 drum samples (see CREDITS.md). Made by
// scripts/build-kit.sh; levels set so a scene sits where it does on the synthesized kit.
Kit(
    name: "sonic-pi",
    voices: {
        kick: (samples: ["bd_haus.flac"]),
        snare: (layers: [
            (samples: ["drum_snare_soft.flac"]),
            (from: 0.6, samples: ["drum_snare_hard.flac"]),
        ]),
        closed_hat: (layers: [
            (samples: ["drum_cymbal_pedal.flac"]),
            (from: 0.4, samples: ["drum_cymbal_closed.flac"]),
        ], choke: 1, level_db: -4),
        open_hat: (samples: ["drum_cymbal_open.flac"], choke: 1, decay: 0.9, level_db: -4),
        low_tom: (layers: [
            (samples: ["drum_tom_lo_soft.flac"]),
            (from: 0.6, samples: ["drum_tom_lo_hard.flac"]),
        ]),
        mid_tom: (layers: [
            (samples: ["drum_tom_mid_soft.flac"]),
            (from: 0.6, samples: ["drum_tom_mid_hard.flac"]),
        ]),
        high_tom: (layers: [
            (samples: ["drum_tom_hi_soft.flac"]),
            (from: 0.6, samples: ["drum_tom_hi_hard.flac"]),
        ]),
        crash: (layers: [
            (samples: ["drum_cymbal_soft.flac"]),
            (from: 0.6, samples: ["drum_cymbal_hard.flac"]),
        ], level_db: -4),
        ride: (samples: ["elec_cymbal.flac"], level_db: -6),
    },
)
RON
{
  echo "# The sonic-pi kit"
  echo
  echo "Samples from Sonic Pi's sample set (Debian package \`sonic-pi-samples\`), each released"
  echo "under CC0 by its author on freesound.org, as the package's copyright file records:"
  echo
  for f in "${FILES[@]}"; do
    awk -v f="etc/samples/$f.flac" '
      $0 == "Files: " f {on=1; next}
      on && /^Copyright:/ {sub(/^Copyright: /, ""); c=$0}
      on && /^Source:/ {sub(/^Source: /, ""); s=$0}
      on && /^License:/ {sub(/^License: /, ""); printf "- `%s.flac`: %s, %s (%s)\n", fname, c, s, $0; exit}
    ' fname="$f" "$COPYRIGHT"
  done
} > "$KIT/CREDITS.md"
du -sh "$KIT"
