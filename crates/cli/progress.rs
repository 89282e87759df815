//! A terminal progress bar over the pipeline's progress events.
//!
//! Each stage's line reads `写出结果 [=====>    ] 113,400/661,017 已用 3秒 剩余约15秒`: units done of
//! the stage's total, the time so far and an estimate of what is left, all in Chinese units. The
//! estimate is the average rate since the stage started, and is withheld (`剩余时间估算中`) until
//! there is enough to go on: in a stage's first moments a few units in a fraction of a second
//! made indicatif's own estimate read "11h" for a 2-second stage. A line stays within 80 columns
//! (a Windows console's default width) even at millions of units. Nothing is drawn when stderr is
//! not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// One bar per stage, drawn on stderr.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
}

impl Bar {
    pub fn new() -> Self {
        Self {
            bar: Mutex::new(None),
        }
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.bar.lock()
            && let Some(b) = guard.as_ref()
        {
            f(b);
        }
    }
}

impl diaoyan_pipeline::Progress for Bar {
    fn start(&self, stage: &str, total: u64) {
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(style());
        bar.set_prefix(stage.to_owned());
        // Redrawn every second even while no unit is done, so the time so far keeps moving.
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_secs(1));
        }
        if let Ok(mut guard) = self.bar.lock() {
            // The previous stage's bar, if it was not finished, stops ticking.
            if let Some(old) = guard.replace(bar) {
                old.disable_steady_tick();
            }
        }
    }

    fn set_total(&self, total: u64) {
        self.with(|b| b.set_length(total));
    }

    fn advance(&self, n: u64) {
        self.with(|b| b.inc(n));
    }

    fn finish(&self) {
        self.with(|b| {
            b.disable_steady_tick();
            b.finish();
        });
    }
}

/// The bar's line: stage, bar, units, time so far and time left.
fn style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{prefix:>8} [{bar:18}] {human_pos}/{human_len} 已用 {spent} {left}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
    .with_key("spent", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = w.write_str(&clock(s.elapsed()));
    })
    .with_key("left", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
        let done = s.is_finished();
        let _ = w.write_str(&left_text(s.elapsed(), s.pos(), s.len(), done));
    })
}

/// A stretch of time as a reviewer reads it: `0秒`, `48秒`, `3分05秒`, `1小时02分`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}秒")
    } else if s < 3600 {
        format!("{}分{:02}秒", s / 60, s % 60)
    } else {
        format!("{}小时{:02}分", s / 3600, (s % 3600) / 60)
    }
}

/// What is left of a stage, from the average rate so far: `None` until at least a second has
/// passed and a fiftieth of the units is done (before that the rate says nothing).
fn left(elapsed: Duration, pos: u64, len: u64) -> Option<Duration> {
    if pos == 0 || elapsed < Duration::from_secs(1) || pos.saturating_mul(50) < len {
        return None;
    }
    let rest = len.saturating_sub(pos) as f64;
    Some(Duration::from_secs_f64(
        elapsed.as_secs_f64() * rest / pos as f64,
    ))
}

/// The bar's last words: `完成`, `剩余时间估算中`, or the estimate rounded as a person would say it
/// (`剩余不到10秒`, `剩余约25秒`, `剩余约2分10秒`, `剩余约14分`, `剩余约1小时20分`).
fn left_text(elapsed: Duration, pos: u64, len: Option<u64>, finished: bool) -> String {
    let len = len.unwrap_or(0);
    if finished || (len > 0 && pos >= len) {
        return "完成".to_owned();
    }
    let Some(d) = left(elapsed, pos, len) else {
        return "剩余时间估算中".to_owned();
    };
    let s = d.as_secs_f64().ceil() as u64;
    let mut out = String::from("剩余");
    let _ = if s < 10 {
        write!(out, "不到10秒")
    } else if s < 60 {
        write!(out, "约{}秒", s.div_ceil(5) * 5)
    } else if s < 600 {
        // To ten seconds: 2分10秒.
        let t = s.div_ceil(10) * 10;
        if t.is_multiple_of(60) {
            write!(out, "约{}分", t / 60)
        } else {
            write!(out, "约{}分{}秒", t / 60, t % 60)
        }
    } else if s < 3600 {
        write!(out, "约{}分", s.div_ceil(60))
    } else {
        let m = s.div_ceil(600) * 10;
        write!(out, "约{}小时{:02}分", m / 60, m % 60)
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn time_reads_in_chinese_units() {
        assert_eq!(clock(secs(0.4)), "0秒");
        assert_eq!(clock(secs(48.9)), "48秒");
        assert_eq!(clock(secs(185.0)), "3分05秒");
        assert_eq!(clock(secs(3720.0)), "1小时02分");
    }

    #[test]
    fn the_estimate_waits_for_evidence() {
        // Five of 100,000 done in a fraction of a second: indicatif said "11h".
        assert_eq!(
            left_text(secs(0.2), 5, Some(100_000), false),
            "剩余时间估算中"
        );
        // A second in, but under a fiftieth done.
        assert_eq!(
            left_text(secs(1.5), 1_000, Some(100_000), false),
            "剩余时间估算中"
        );
        // Nothing done yet, however long.
        assert_eq!(left_text(secs(30.0), 0, Some(10), false), "剩余时间估算中");
        // Enough: a quarter done in 3 s leaves 9 s.
        assert_eq!(left_text(secs(3.0), 25, Some(100), false), "剩余不到10秒");
    }

    #[test]
    fn the_estimate_follows_the_average_rate() {
        // Half done in 11 s: 11 s left, said as 15.
        assert_eq!(left_text(secs(11.0), 50, Some(100), false), "剩余约15秒");
        // A tenth in 13 s: 117 s left, said as 2分.
        assert_eq!(left_text(secs(13.0), 10, Some(100), false), "剩余约2分");
        // A fifth in 31 s: 124 s left, to ten seconds.
        assert_eq!(left_text(secs(31.0), 20, Some(100), false), "剩余约2分10秒");
        // A twentieth in 60 s: 1,140 s left, to the minute.
        assert_eq!(left_text(secs(60.0), 5, Some(100), false), "剩余约19分");
        // 1,000 s for a fiftieth: 49,000 s left, to ten minutes.
        assert_eq!(
            left_text(secs(1000.0), 2, Some(100), false),
            "剩余约13小时40分"
        );
        // More time passing at the same progress means more left.
        let a = left(secs(10.0), 30, 100).unwrap();
        let b = left(secs(20.0), 30, 100).unwrap();
        assert!(b > a, "{a:?} {b:?}");
    }

    #[test]
    fn a_finished_stage_says_so() {
        assert_eq!(left_text(secs(0.1), 10, Some(10), false), "完成");
        assert_eq!(left_text(secs(5.0), 3, Some(10), true), "完成");
        assert_eq!(left_text(secs(0.0), 0, Some(0), false), "剩余时间估算中");
    }

    /// A terminal that keeps what is written to it.
    #[derive(Debug, Default, Clone)]
    struct Screen(std::sync::Arc<Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.0.lock().unwrap().clear();
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The line a bar draws at `pos` of `len` after `spent`.
    fn drawn(stage: &str, pos: u64, len: u64, spent: Duration) -> String {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        let bar = ProgressBar::with_draw_target(Some(len), target).with_elapsed(spent);
        bar.set_style(style());
        bar.set_prefix(stage.to_owned());
        bar.set_position(pos);
        bar.force_draw();
        screen.0.lock().unwrap().trim_end().to_owned()
    }

    #[test]
    fn a_drawn_line_reads_in_chinese_and_fits_eighty_columns() {
        let line = drawn("写出结果", 1_234_567, 4_200_000, secs(3599.0));
        assert!(line.starts_with("写出结果 [=====> "), "{line}");
        assert!(
            line.ends_with("1,234,567/4,200,000 已用 59分59秒 剩余约2小时30分"),
            "{line}"
        );
        // Han characters take two columns.
        let width: usize = line.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
        assert!(width <= 80, "{width} columns: {line}");
        // No English time units (indicatif's own "11h", "3m", "5s").
        assert!(
            !line
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w.ends_with(['h', 'm', 's'])),
            "{line}"
        );
        let early = drawn("逐份阅读", 5, 100_000, secs(0.2));
        assert!(
            early.ends_with("5/100,000 已用 0秒 剩余时间估算中"),
            "{early}"
        );
    }
}
