//! What the feedback loop hears: the last seconds of the master output, from the audio
//! thread's listening tap, addressed by absolute output frame; on stage, the transport's
//! loudness meter reads the same tap.

use rtrb::Consumer;

use super::loudness::LiveMeter;
use crate::snapshot::Loudness;

/// Seconds of output kept: more than one cycle at the slowest tempo (12 s at 40 BPM).
const KEEP_SECONDS: usize = 14;

/// A rolling window of the output, mono.
pub struct Listener {
    tap: Consumer<f32>,
    ring: Vec<f32>,
    /// Absolute frame after the newest sample.
    end: u64,
    meter: Option<LiveMeter>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Listens to `tap` (the audio thread's listening tap of a graph at `sample_rate`).
    pub fn new(tap: Consumer<f32>, sample_rate: u32) -> Self {
        Listener {
            tap,
            ring: vec![0.0; KEEP_SECONDS * sample_rate as usize],
            end: 0,
            meter: None,
        }
    }

    /// Also meters the loudness of what it hears (the stage's transport meter; renders
    /// leave it off). A rate the meter refuses leaves it off.
    pub fn metered(mut self, sample_rate: u32) -> Self {
        self.meter = LiveMeter::new(sample_rate).ok();
        self
    }

    /// The meter's reading, when it meters.
    pub fn loudness(&self) -> Option<Loudness> {
        self.meter.as_ref().map(LiveMeter::reading)
    }

    /// Takes in what the tap delivered since the last call.
    pub fn drain(&mut self) {
        let n = self.tap.slots();
        let Ok(chunk) = self.tap.read_chunk(n) else {
            return;
        };
        let len = self.ring.len() as u64;
        let (a, b) = chunk.as_slices();
        if let Some(meter) = &mut self.meter {
            meter.feed(a);
            meter.feed(b);
        }
        for &x in a.iter().chain(b) {
            self.ring[(self.end % len) as usize] = x;
            self.end += 1;
        }
        chunk.commit_all();
    }

    /// Absolute frame after the newest sample heard.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The output of frames `from..to`, when all of it was heard and is still kept.
    pub fn span(&self, from: u64, to: u64) -> Option<Vec<f32>> {
        let len = self.ring.len() as u64;
        if to <= from || to > self.end || self.end - from > len {
            return None;
        }
        Some((from..to).map(|f| self.ring[(f % len) as usize]).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_addressed_by_frame_and_forgotten_after_a_while() {
        let (mut tx, rx) = rtrb::RingBuffer::new(64);
        let mut l = Listener::new(rx, 1);
        for i in 0..20 {
            tx.push(i as f32).unwrap();
        }
        l.drain();
        assert_eq!(l.end(), 20);
        assert_eq!(l.span(16, 19), Some(vec![16.0, 17.0, 18.0]));
        assert_eq!(l.span(2, 5), None, "only 14 frames are kept at 1 Hz");
        assert_eq!(l.span(18, 21), None, "not heard yet");
    }
}
