//! How the server simulates the network to AppSync: a precise wait for `latency_ms` and scripted
//! delays.

use std::time::Duration;

/// How early tokio's timer hands over to a blocking thread's sleep in [`delay`].
const COARSE_TIMER_SLACK: Duration = Duration::from_millis(2);

/// Waits `duration`, to within about a tenth of a millisecond.
///
/// tokio's timer works in whole milliseconds and rounds up, and the runtime's wake-up adds to
/// that: a 20 ms `tokio::time::sleep` answered after 21.4 ms (median) in the load run
/// (BENCHMARKS.md). The added latency stands in for the network to AppSync, so it should be what
/// it says. The wait runs on tokio's timer until [`COARSE_TIMER_SLACK`] before the end, and
/// the rest is a `std::thread::sleep` on the blocking pool, which the kernel ends within tens of
/// microseconds. The runtime's own thread is never blocked. The end is taken on tokio's clock,
/// so under a paused clock (tests) at most the last 2 ms are real time.
pub(crate) async fn delay(duration: Duration) {
    let until = tokio::time::Instant::now() + duration;
    if duration > COARSE_TIMER_SLACK {
        tokio::time::sleep(duration - COARSE_TIMER_SLACK).await;
    }
    let left = until.saturating_duration_since(tokio::time::Instant::now());
    if !left.is_zero() {
        // The end as a wall-clock instant, taken before the pool starts a thread (a cold pool
        // takes tens of microseconds), so that time counts towards the wait.
        let end = std::time::Instant::now() + left;
        // A pool that cannot take the task (runtime shutting down) ends the wait early; the
        // request is answered either way.
        let _ = tokio::task::spawn_blocking(move || {
            std::thread::sleep(end.saturating_duration_since(std::time::Instant::now()));
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // How close to the duration the wait ends is a figure for the load run (BENCHMARKS.md), not
    // for a unit test; what must hold everywhere is that it never ends early.
    #[tokio::test]
    async fn a_delay_never_ends_before_its_duration() {
        for ms in [0, 1, 2, 3, 7] {
            let duration = Duration::from_millis(ms);
            let started = std::time::Instant::now();
            delay(duration).await;
            assert!(started.elapsed() >= duration, "{ms} ms");
        }
    }
}
