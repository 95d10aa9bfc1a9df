//! The deck: a record the DJ mixes in over the AI's set — an audio file played like a
//! turntable (play, stop, cue, nudge, pitch) and/or a live input (a turntable or line in),
//! mixed into the deck track and so into the master and the feedback analysis.
//!
//! A file is decoded and converted to the device rate off the audio thread; the buffer arrives
//! boxed through a lock-free queue and the one it replaces goes back to be freed on the control
//! side. The live input arrives through a lock-free ring from the input device's callback.

use rtrb::Consumer;

/// Largest pitch change, in percent (a turntable's ±8 % fader).
pub const MAX_RATE_PERCENT: f32 = 8.0;

/// A decoded record at the device rate, ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct DeckBuffer {
    /// Mono samples at the device rate.
    pub samples: Vec<f32>,
    /// File name (for displays).
    pub name: String,
}

/// What the performer does with the deck (fixed-size, sent through the message queue).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeckControl {
    /// Start (or go on) playing from where it is.
    Play,
    /// Stop where it is.
    Stop,
    /// Back to the start of the record, stopped.
    Cue,
    /// Move the playhead by this many milliseconds (a nudge of the platter).
    Nudge(f32),
    /// Play this much faster (percent, −8..8).
    Rate(f32),
}

/// The deck's state as the audio thread publishes it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeckPosition {
    /// A record is playing.
    pub playing: bool,
    /// Playhead in frames of the record.
    pub frame: u64,
    /// Length of the record in frames (0: none loaded).
    pub length: u64,
}

/// The deck player of the audio thread.
#[derive(Debug)]
pub struct Deck {
    record: Option<Box<DeckBuffer>>,
    position: f64,
    speed: f64,
    playing: bool,
    sample_rate: f64,
    input: Option<Consumer<f32>>,
}

impl Deck {
    /// A deck at `sample_rate` with no record, no input, at normal speed.
    pub fn new(sample_rate: f32) -> Self {
        Deck {
            record: None,
            position: 0.0,
            speed: 1.0,
            playing: false,
            sample_rate: f64::from(sample_rate),
            input: None,
        }
    }

    /// Takes a live input ring (samples at the device rate, mono); returns the one it
    /// replaces.
    pub fn set_input(&mut self, input: Consumer<f32>) -> Option<Consumer<f32>> {
        self.input.replace(input)
    }

    /// Puts a record on (stopped, cued to its start); returns the one it replaces.
    pub fn load(&mut self, record: Option<Box<DeckBuffer>>) -> Option<Box<DeckBuffer>> {
        self.position = 0.0;
        self.playing = false;
        std::mem::replace(&mut self.record, record)
    }

    /// Applies a control.
    pub fn control(&mut self, control: DeckControl) {
        match control {
            DeckControl::Play => self.playing = self.record.is_some(),
            DeckControl::Stop => self.playing = false,
            DeckControl::Cue => {
                self.playing = false;
                self.position = 0.0;
            }
            DeckControl::Nudge(ms) => {
                let len = self.record.as_ref().map_or(0, |r| r.samples.len()) as f64;
                let frames = f64::from(ms) * self.sample_rate / 1000.0;
                self.position = (self.position + frames).clamp(0.0, len);
            }
            DeckControl::Rate(percent) => {
                let p = percent.clamp(-MAX_RATE_PERCENT, MAX_RATE_PERCENT);
                self.speed = 1.0 + f64::from(p) / 100.0;
            }
        }
    }

    /// Where the deck is.
    pub fn position(&self) -> DeckPosition {
        DeckPosition {
            playing: self.playing,
            frame: self.position as u64,
            length: self.record.as_ref().map_or(0, |r| r.samples.len() as u64),
        }
    }

    /// Writes `out.len()` frames of the deck (record and live input) into `out`.
    pub fn render(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        if self.playing
            && let Some(record) = &self.record
        {
            let s = &record.samples;
            for o in out.iter_mut() {
                let i = self.position as usize;
                if i + 1 >= s.len() {
                    self.playing = false;
                    self.position = s.len() as f64;
                    break;
                }
                let frac = (self.position - i as f64) as f32;
                *o = s[i] + (s[i + 1] - s[i]) * frac;
                self.position += self.speed;
            }
        }
        if let Some(input) = &mut self.input {
            let n = input.slots().min(out.len());
            if let Ok(chunk) = input.read_chunk(n) {
                let (a, b) = chunk.as_slices();
                for (o, x) in out.iter_mut().zip(a.iter().chain(b)) {
                    *o += *x;
                }
                chunk.commit_all();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: usize) -> Box<DeckBuffer> {
        Box::new(DeckBuffer {
            samples: (0..n).map(|i| i as f32).collect(),
            name: "ramp".into(),
        })
    }

    #[test]
    fn plays_from_the_cue_and_stops_at_the_end() {
        let mut deck = Deck::new(1000.0);
        assert!(deck.load(Some(record(10))).is_none());
        let mut out = [1.0; 4];
        deck.render(&mut out);
        assert_eq!(out, [0.0; 4], "a loaded record waits for play");
        deck.control(DeckControl::Play);
        deck.render(&mut out);
        assert_eq!(out, [0.0, 1.0, 2.0, 3.0]);
        deck.control(DeckControl::Nudge(2.0));
        deck.render(&mut out);
        assert_eq!(out, [6.0, 7.0, 8.0, 0.0]);
        assert!(!deck.position().playing);
        deck.control(DeckControl::Cue);
        deck.control(DeckControl::Play);
        deck.render(&mut out);
        assert_eq!(out[0], 0.0);
        assert_eq!(out[1], 1.0);
    }

    #[test]
    fn pitch_changes_the_speed() {
        let mut deck = Deck::new(1000.0);
        deck.load(Some(record(100)));
        deck.control(DeckControl::Rate(8.0));
        deck.control(DeckControl::Play);
        let mut out = [0.0; 50];
        deck.render(&mut out);
        assert!((deck.position().frame as f64 - 54.0).abs() <= 1.0);
        assert!((out[10] - 10.8).abs() < 1e-4);
    }

    #[test]
    fn the_live_input_is_mixed_in() {
        let (mut tx, rx) = rtrb::RingBuffer::new(16);
        let mut deck = Deck::new(1000.0);
        assert!(deck.set_input(rx).is_none());
        for x in [0.5, 0.25] {
            tx.push(x).unwrap();
        }
        let mut out = [0.0; 4];
        deck.render(&mut out);
        assert_eq!(out, [0.5, 0.25, 0.0, 0.0]);
    }
}
