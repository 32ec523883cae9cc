//! Reads off the key loop: a thread of its own asks the source when told
//! and hands each answer back, so that a slow or silent endpoint never
//! holds up a key press (the full-screen view quits within its poll).

use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use super::source::{Source, SourceError, Taken};

/// What one read gave: a reading, the end of a file, or why not.
pub type Answer = Result<Option<Taken>, SourceError>;

/// The source on its own thread, one read at a time.
pub struct Reader {
    ask: Sender<()>,
    answers: Receiver<Answer>,
    /// When the read under way was asked for.
    asked: Option<Instant>,
}

impl Reader {
    /// Moves `source` to a thread of its own. The thread ends when the
    /// reader is dropped and its read under way (bounded by the source's
    /// deadline) is done; the process need not wait for it.
    pub fn spawn(mut source: Source) -> Reader {
        let (ask, asked) = mpsc::channel::<()>();
        let (answer, answers) = mpsc::channel();
        thread::Builder::new()
            .name("perf-timer-top-read".into())
            .spawn(move || {
                while asked.recv().is_ok() {
                    if answer.send(source.next()).is_err() {
                        return;
                    }
                }
            })
            .expect("a thread for reading");
        Reader {
            ask,
            answers,
            asked: None,
        }
    }

    /// Starts a read, unless one is under way.
    pub fn ask(&mut self) {
        if self.asked.is_none() && self.ask.send(()).is_ok() {
            self.asked = Some(Instant::now());
        }
    }

    /// The answer of the read under way, if it came.
    pub fn answer(&mut self) -> Option<Answer> {
        match self.answers.try_recv() {
            Ok(answer) => {
                self.asked = None;
                Some(answer)
            }
            Err(TryRecvError::Empty) => None,
            // The thread is gone (it cannot be, short of a panic in it):
            // said as a read that failed, never a hang.
            Err(TryRecvError::Disconnected) => self.asked.take().map(|_| {
                Err(SourceError::BadSource(
                    "the reading thread stopped".to_owned(),
                ))
            }),
        }
    }

    /// How long the read under way has been waited for.
    pub fn waiting(&self) -> Option<Duration> {
        self.asked.map(|at| at.elapsed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_is_answered_off_the_calling_thread() {
        let path =
            std::env::temp_dir().join(format!("perf-timer-reader-{}.jsonl", std::process::id()));
        let registry = perf_timer::Registry::new();
        registry.timer("a").record(Duration::from_millis(1));
        let _ = std::fs::remove_file(&path);
        perf_timer::saved::SavedRun::capture(&registry)
            .append_to(&path)
            .unwrap();
        let source = Source::open(path.to_str().unwrap(), Duration::from_secs(1)).unwrap();
        let mut reader = Reader::spawn(source);
        assert!(reader.waiting().is_none());
        reader.ask();
        assert!(reader.waiting().is_some());
        let deadline = Instant::now() + Duration::from_secs(30);
        let first = loop {
            if let Some(answer) = reader.answer() {
                break answer;
            }
            assert!(Instant::now() < deadline, "no answer");
            thread::sleep(Duration::from_millis(1));
        };
        assert!(matches!(first, Ok(Some(_))));
        reader.ask();
        let second = loop {
            if let Some(answer) = reader.answer() {
                break answer;
            }
            thread::sleep(Duration::from_millis(1));
        };
        assert!(matches!(second, Ok(None)), "the file's end");
        let _ = std::fs::remove_file(&path);
    }
}
