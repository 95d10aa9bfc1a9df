#!/usr/bin/env python3
"""A dance-music corpus from MMA (Musical MIDI Accompaniment, Debian package `mma`, GPL-2+).

MMA ships about 1,960 human-written grooves (house, techno, trance, funk, hip-hop, R&B,
disco, latin, rock, jazz, ...), each playing drums, bass, chords and arpeggios over any chord
progression. This script writes one multi-track MIDI song per main 4/4 groove and chord
progression: the groove's intro, the groove, each of its variations (Sus, Plus, 1, 2, ...), a
fill, the groove again and its ending, in a key and tempo that rotate through the songs. The
chord of every bar goes beside each song (`SONG.chords`, one chord per line, as sounding).

Songs are grouped by style family (the groove file's name without its trailing digits:
`trance1`, `trance2` and `trance` are one family). `info.csv` gives every song its group, so
ubiq's dataset code splits by family and one groove never lands in two splits.

Usage: scripts/mma-corpus.py [OUT]     (default: ${XDG_CACHE_HOME:-~/.cache}/ubiq/datasets/mma)
Installs `mma` with apt-get when it is missing (as root). Songs already written are kept, so a
second run only adds what is new.
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

LIBRARY = Path("/usr/share/mma/lib")

# Chord progressions, one chord a bar, written in C (A minor): pop, dance, minor, modal,
# jazz, blues and one-chord vamps.
PROGRESSIONS = {
    "pop": "C G Am F",
    "dance-minor": "Am F C G",
    "minor-descent": "Am G F E",
    "aeolian": "Am G F G",
    "dorian": "Dm7 G7 Dm7 G7",
    "phrygian": "Em F Em F",
    "ii-v-i": "Dm7 G7 Cmaj7 Cmaj7",
    "minor-ii-v": "Bm7b5 E7 Am7 Am7",
    "blues": "C7 C7 C7 C7 F7 F7 C7 C7 G7 F7 C7 G7",
    "house-minor": "Cm Cm Ab Bb",
    "vamp": "Am7 Am7 Am7 Am7",
    "i-iv": "C F C F",
    "soul": "Cmaj7 Am7 Dm7 G7",
    "anthem": "F G Em Am",
}

# Keys (semitones above C) and tempos the songs rotate through.
KEYS = [0, 2, 3, 5, 7, 9, 10, -2, -4, 4]
TEMPOS = [96, 110, 122, 126, 132]

VARIATION = re.compile(r"(sus|plus|fill|intro|end|ending)\d*$", re.IGNORECASE)
NOTE = re.compile(r"^([A-G][b#]?)(.*)$")
NAMES = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
PITCH = {n: i for i, n in enumerate(NAMES)}
PITCH.update({"C#": 1, "D#": 3, "F#": 6, "G#": 8, "A#": 10, "Cb": 11, "Fb": 4, "E#": 5, "B#": 0})


def ensure_mma():
    if shutil.which("mma"):
        return
    if os.geteuid() != 0:
        sys.exit("mma is not installed: `sudo apt-get install mma`, then run this again")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "mma"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def grooves(path):
    """The grooves a library file defines, each with the time signature it was defined in."""
    time = 4
    out = []
    for line in path.read_text(errors="replace").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].lower() == "time":
            try:
                time = float(words[1])
            except ValueError:
                pass
        if len(words) >= 2 and words[0].lower() == "defgroove":
            out.append((words[1], time))
    return out


def family(path):
    """The style family of a groove file: its name, lower case, without trailing digits."""
    return re.sub(r"[^a-z]+$", "", path.stem.lower()) or path.stem.lower()


def transpose(chord, semitones):
    m = NOTE.match(chord)
    if not m:
        return chord
    root = (PITCH[m.group(1)] + semitones) % 12
    return NAMES[root] + m.group(2)


def song_text(main, names, progression, key, tempo, seed):
    """The MMA source of one song and the chord of every bar (as sounding). `seed` fixes
    MMA's random timing and volume, so the same script writes the same songs."""
    lower = {n.lower(): n for n in names}
    chords = progression.split()
    variations = sorted(
        n for n in names
        if n.lower().startswith(main.lower()) and n != main
        and re.fullmatch(r"(sus|plus|\d+)+", n[len(main):].lower() or "x")
    )
    sections = []
    if main.lower() + "intro" in lower:
        sections.append((lower[main.lower() + "intro"], 4))
    sections.append((main, 8))
    for v in variations[:4]:
        sections.append((v, 8))
    if main.lower() + "fill" in lower:
        sections.append((lower[main.lower() + "fill"], 1))
    sections.append((main, 8))
    if main.lower() + "end" in lower:
        sections.append((lower[main.lower() + "end"], 2))
    lines = [f"RndSeed {seed}", f"Tempo {tempo}", f"Transpose {key}"]
    bar = 0
    sounding = []
    for groove, bars in sections:
        lines.append(f"Groove {groove}")
        for _ in range(bars):
            chord = chords[bar % len(chords)]
            lines.append(f"{bar + 1} {chord}")
            sounding.append(transpose(chord, key))
            bar += 1
    return "\n".join(lines) + "\n", sounding


def stable(text):
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def jobs(out):
    for lib_file in sorted(LIBRARY.glob("*/*.mma")):
        defined = grooves(lib_file)
        names = [n for n, _ in defined]
        fam = family(lib_file)
        for main, time in defined:
            if time != 4 or VARIATION.search(main):
                continue
            # Variations of another main groove (Trance1 next to Trance) get their own songs
            # too: they are grooves in their own right.
            for i, (prog_name, prog) in enumerate(PROGRESSIONS.items()):
                # Four progressions a groove, chosen by a stable hash so every family hears
                # all of them.
                if (stable(main) + i) % len(PROGRESSIONS) >= 4:
                    continue
                h = stable(f"{lib_file.parent.name}/{main}/{prog_name}")
                key = KEYS[h % len(KEYS)]
                tempo = TEMPOS[(h // 7) % len(TEMPOS)]
                rel = Path(fam) / f"{lib_file.parent.name}-{main}-{prog_name}.mid"
                yield out / rel, rel, fam, main, names, prog, key, tempo, h


def render(job):
    target, rel, fam, main, names, prog, key, tempo, seed = job
    if target.exists():
        return rel, fam, True
    text, sounding = song_text(main, names, prog, key, tempo, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "song.mma"
        src.write_text(text)
        mid = Path(tmp) / "song.mid"
        r = subprocess.run(["mma", str(src), "-f", str(mid)], capture_output=True, text=True)
        if r.returncode != 0 or not mid.exists():
            return rel, fam, False
        target.with_suffix(".chords").write_text("\n".join(sounding) + "\n")
        shutil.move(str(mid), target)
    return rel, fam, True


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ubiq" / "datasets" / "mma"
    ensure_mma()
    out.mkdir(parents=True, exist_ok=True)
    todo = list(jobs(out))
    written, failed, rows = 0, 0, []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for n, (rel, fam, ok) in enumerate(pool.map(render, todo), 1):
            if ok:
                written += 1
                rows.append(f"{rel.as_posix()},{fam},{fam}")
            else:
                failed += 1
            if n % 200 == 0:
                print(f"mma: {n}/{len(todo)} songs", file=sys.stderr)
    (out / "info.csv").write_text("midi_filename,group,style\n" + "\n".join(sorted(rows)) + "\n")
    print(f"mma: {written} songs in {out} ({failed} grooves mma could not play); "
          f"`ubiq train bass --midi {out} ...` uses them")


if __name__ == "__main__":
    main()
