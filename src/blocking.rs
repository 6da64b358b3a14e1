//! The blocking pool as geoplan uses it. Every blocking job (a query over
//! the engine, a map render, a store call, a load) goes through [`spawn`],
//! which counts the jobs waiting for a thread and running, and times each
//! one's wait for a thread: the pool's saturation, which tokio reports
//! itself only when built with its unstable cfg flag. `GET /metrics`
//! exports the figures.

use prometheus::{Histogram, HistogramOpts};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static WAITING: AtomicI64 = AtomicI64::new(0);
static RUNNING: AtomicI64 = AtomicI64::new(0);

/// Seconds each job waited for a blocking thread (near zero until every
/// thread of the pool is busy). Named without the `geoplan_` prefix, which
/// the metrics registry adds.
pub fn wait_seconds() -> &'static Histogram {
    static H: OnceLock<Histogram> = OnceLock::new();
    H.get_or_init(|| {
        Histogram::with_opts(
            HistogramOpts::new(
                "blocking_wait_seconds",
                "time a blocking job waited for a thread of the pool",
            )
            .buckets(vec![
                0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
            ]),
        )
        .expect("valid histogram options")
    })
}

/// Jobs spawned and not yet started (waiting for a thread).
pub fn waiting() -> i64 {
    WAITING.load(Ordering::Relaxed)
}

/// Jobs running on a blocking thread.
pub fn running() -> i64 {
    RUNNING.load(Ordering::Relaxed)
}

/// Decrements the running count when a job ends, panicking or not.
struct Running;

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Runs `f` on tokio's blocking pool (as `tokio::task::spawn_blocking`),
/// counted and timed.
pub fn spawn<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let spawned = Instant::now();
    WAITING.fetch_add(1, Ordering::Relaxed);
    tokio::task::spawn_blocking(move || {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        WAITING.fetch_sub(1, Ordering::Relaxed);
        let _running = Running;
        wait_seconds().observe(spawned.elapsed().as_secs_f64());
        f()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_job_queued_behind_a_busy_pool_is_counted_waiting_and_its_wait_timed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let before = wait_seconds().get_sample_sum();
            let (go, hold) = std::sync::mpsc::channel::<()>();
            let first = spawn(move || hold.recv().unwrap());
            // The first job holds the only thread until told to go.
            while running() < 1 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let second = spawn(|| 7);
            assert!(waiting() >= 1, "the second job waits for the thread");
            tokio::time::sleep(Duration::from_millis(200)).await;
            go.send(()).unwrap();
            first.await.unwrap();
            assert_eq!(second.await.unwrap(), 7);
            // Other tests of the crate may spawn too: at least this wait.
            assert!(
                wait_seconds().get_sample_sum() - before >= 0.15,
                "the 200 ms the second job waited are recorded"
            );
        });
    }
}
