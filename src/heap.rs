//! The process's memory allocator and what it reports.
//!
//! geoplan allocates through jemalloc rather than the C library's malloc.
//! Under a long mixed load glibc's per-thread arenas (one per blocking-pool
//! thread, up to eight per core) kept freed memory they could not give
//! back: a 30-minute soak at 200 connections grew RSS by a quarter with
//! nothing held growing (benches/soak.sh). jemalloc returns unused pages
//! to the system on a decay timer, so RSS follows what is held.
//!
//! C libraries (GDAL, SQLite, PROJ) keep the C library's malloc. So a
//! buffer must never cross between the two heaps: one handed to C to free
//! comes from C's allocator (`store::source`'s `/vsimem/` files are copied
//! into `VSIMalloc`ed memory for that reason), and one C allocated is freed
//! by C.
//!
//! Fuzz builds (`cfg(fuzzing)`) keep the system allocator, which the
//! address sanitizer watches.

/// The global allocator: jemalloc (prefixed symbols, beside the C
/// library's malloc that C dependencies such as GDAL and SQLite use).
#[cfg(not(fuzzing))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Starts jemalloc's background threads, which give pages freed more
/// than its decay time ago (10 s) back to the system even while the server
/// is idle; without them that happens only on later allocations, so the
/// buffers of a large load could stay resident until requests came. A
/// long-running server calls this once at start.
pub fn purge_in_background() {
    #[cfg(not(fuzzing))]
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::warn!("jemalloc background threads not started: {e}");
    }
}

/// Bytes the allocator reports, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapStats {
    /// Bytes of live allocations.
    pub allocated: u64,
    /// Bytes of physical memory the allocator holds (live allocations,
    /// its metadata and pages not yet returned): the part of RSS that is
    /// ours, as opposed to C libraries' and thread stacks.
    pub resident: u64,
}

/// The allocator's statistics now, or `None` where they cannot be read
/// (a fuzz build on the system allocator).
pub fn stats() -> Option<HeapStats> {
    #[cfg(not(fuzzing))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        // The statistics are a snapshot taken when the epoch advances.
        epoch::advance().ok()?;
        Some(HeapStats {
            allocated: stats::allocated::read().ok()? as u64,
            resident: stats::resident::read().ok()? as u64,
        })
    }
    #[cfg(fuzzing)]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_purging_starts() {
        purge_in_background();
        assert!(tikv_jemalloc_ctl::background_thread::read().unwrap());
    }

    #[test]
    fn the_statistics_follow_an_allocation() {
        let before = stats().expect("jemalloc statistics").allocated;
        let block = vec![7u8; 64 << 20];
        let during = stats().expect("jemalloc statistics");
        assert!(
            during.allocated >= before + (60 << 20),
            "{before} then {during:?}"
        );
        assert!(during.resident >= during.allocated, "{during:?}");
        drop(std::hint::black_box(block));
        let after = stats().expect("jemalloc statistics").allocated;
        assert!(
            after + (60 << 20) <= during.allocated,
            "{after} after {during:?}"
        );
    }
}
