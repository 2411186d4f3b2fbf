//! The server's log: one line per event, with a syslog priority, to a sink the host
//! chooses (by default standard error, with a time stamp). Forked workers inherit the
//! sink, so their lines go where the master's go; they carry the worker's pid.

use crate::sys::process;

/// A log line's priority, by syslog's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

impl Level {
    /// The level for a syslog number; numbers above 7 are `Debug`, below 3 `Error`.
    pub fn from_number(n: i32) -> Level {
        match n {
            i32::MIN..=3 => Level::Error,
            4 => Level::Warning,
            5 => Level::Notice,
            6 => Level::Info,
            _ => Level::Debug,
        }
    }
}

/// Where log lines go: called with each line's level and text (no newline).
pub type Sink = Box<dyn FnMut(Level, &str)>;

/// The server's logger.
pub struct Log {
    sink: Option<Sink>,
    max: Level,
    /// "worker 1234: " in a worker process, empty in the master.
    prefix: String,
}

impl Default for Log {
    fn default() -> Log {
        Log {
            sink: None,
            max: Level::Info,
            prefix: String::new(),
        }
    }
}

impl Log {
    /// A logger writing to `sink` the lines up to `max`; `None` writes to standard error.
    pub fn new(sink: Option<Sink>, max: Level) -> Log {
        Log {
            sink,
            max,
            prefix: String::new(),
        }
    }

    /// Whether lines of `level` are written.
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.max
    }

    /// Writes one line (several lines of `msg` become several log lines).
    pub fn log(&mut self, level: Level, msg: &str) {
        if !self.enabled(level) {
            return;
        }
        for line in msg.lines() {
            let text = format!("{}{}", self.prefix, line);
            match &mut self.sink {
                Some(sink) => sink(level, &text),
                None => {
                    use std::io::Write;
                    let stamped = format!("{}: {}\n", process::log_timestamp(), text);
                    let _ = std::io::stderr().write_all(stamped.as_bytes());
                }
            }
        }
    }

    /// Marks this process as worker `pid` of pool `pool` (1-based): its lines say so.
    pub(crate) fn enter_worker(&mut self, pool: usize, pid: process::Pid) {
        self.prefix = format!("pool #{pool}, worker {pid}: ");
    }

    pub fn error(&mut self, msg: &str) {
        self.log(Level::Error, msg)
    }
    pub fn warning(&mut self, msg: &str) {
        self.log(Level::Warning, msg)
    }
    pub fn notice(&mut self, msg: &str) {
        self.log(Level::Notice, msg)
    }
    pub fn info(&mut self, msg: &str) {
        self.log(Level::Info, msg)
    }
    pub fn debug(&mut self, msg: &str) {
        self.log(Level::Debug, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[test]
    fn lines_are_filtered_split_and_prefixed() {
        let got = Rc::new(RefCell::new(Vec::new()));
        let g = got.clone();
        let mut log = Log::new(
            Some(Box::new(move |l, m: &str| {
                g.borrow_mut().push((l, m.to_string()))
            })),
            Level::Info,
        );
        log.debug("hidden");
        log.info("a\nb");
        log.enter_worker(2, 77);
        log.error("boom");
        assert_eq!(
            *got.borrow(),
            vec![
                (Level::Info, "a".to_string()),
                (Level::Info, "b".to_string()),
                (Level::Error, "pool #2, worker 77: boom".to_string()),
            ]
        );
        assert_eq!(Level::from_number(0), Level::Error);
        assert_eq!(Level::from_number(5), Level::Notice);
        assert_eq!(Level::from_number(99), Level::Debug);
    }
}
