//! Key estimation: the Krumhansl–Kessler profiles correlated with a duration-weighted pitch-class
//! histogram (the Krumhansl–Schmuckler algorithm), major or minor.

use super::Song;
use crate::pattern::{Key, Scale};

/// Krumhansl–Kessler probe-tone ratings for a major key, tonic first.
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl–Kessler probe-tone ratings for a minor key, tonic first.
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

/// How far before `from` a note may start and still be counted, in bars of 4/4.
const LOOKBACK_BARS: u64 = 2;

/// The pitch-class histogram of the pitched notes sounding in `from..to`, each weighted by how
/// long it sounds there.
pub fn histogram(song: &Song, from: u64, to: u64) -> [f64; 12] {
    let earliest = from.saturating_sub(LOOKBACK_BARS * song.ticks_per_bar());
    let first = song.notes.partition_point(|n| n.start < earliest);
    let mut hist = [0.0; 12];
    for note in song.notes[first..].iter().take_while(|n| n.start < to) {
        let start = note.start.max(from);
        let end = note.end.min(to);
        if end > start {
            hist[usize::from(note.pitch % 12)] += (end - start) as f64;
        }
    }
    hist
}

/// Pearson correlation of two pitch-class profiles, `b` rotated up by `rotation` semitones
/// (0 when either is flat).
pub fn correlation(a: &[f64; 12], b: &[f64; 12], rotation: usize) -> f64 {
    let mean_a = a.iter().sum::<f64>() / 12.0;
    let mean_b = b.iter().sum::<f64>() / 12.0;
    let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
    for pc in 0..12 {
        let x = a[pc] - mean_a;
        let y = b[(pc + 12 - rotation) % 12] - mean_b;
        num += x * y;
        da += x * x;
        db += y * y;
    }
    if da == 0.0 || db == 0.0 {
        0.0
    } else {
        num / (da * db).sqrt()
    }
}

/// The best-fitting key of a histogram; C minor when it is empty.
pub fn best_key(hist: &[f64; 12]) -> (Key, Scale) {
    let (key, scale, _) = best_key_scored(hist);
    (key, scale)
}

/// The best-fitting key of a histogram (any non-negative weights per pitch class, C first)
/// with its correlation to the key's profile, −1..1 (0 for an empty or flat histogram, which
/// gives C minor).
pub fn best_key_scored(hist: &[f64; 12]) -> (Key, Scale, f64) {
    let mut best = (Key::new(0), Scale::Minor, 0.0);
    let mut best_r = f64::NEG_INFINITY;
    for tonic in 0..12 {
        for (profile, scale) in [(&MAJOR, Scale::Major), (&MINOR, Scale::Minor)] {
            let r = correlation(hist, profile, tonic);
            if r > best_r {
                best_r = r;
                best = (Key::new(tonic as i32), scale, r);
            }
        }
    }
    best
}

/// The key of the pitched notes (bass included) sounding in `from..to`.
pub fn estimate(song: &Song, from: u64, to: u64) -> (Key, Scale) {
    best_key(&histogram(song, from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist_of(pcs: &[usize]) -> [f64; 12] {
        let mut h = [0.0; 12];
        for &pc in pcs {
            h[pc] += 1.0;
        }
        h
    }

    #[test]
    fn scales_are_recognised() {
        // C major scale with tonic and dominant weighted.
        let c_major = hist_of(&[0, 0, 0, 2, 4, 4, 5, 7, 7, 7, 9, 11]);
        assert_eq!(best_key(&c_major), (Key::new(0), Scale::Major));
        // A natural minor, tonic triad weighted.
        let a_minor = hist_of(&[9, 9, 9, 11, 0, 0, 2, 4, 4, 5, 7]);
        assert_eq!(best_key(&a_minor), (Key::new(9), Scale::Minor));
    }
}
