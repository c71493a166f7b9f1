//! The allocator the binary runs on (jemalloc, as configured in
//! `.cargo/config.toml`) hands back by itself the memory a burst freed on
//! another thread, with no trim. A test binary of its own, on the same
//! allocator as `main.rs`, so that no other test allocates meanwhile.

mod common;

use std::time::{Duration, Instant};

use common::resident_kb;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[cfg(target_os = "linux")]
#[test]
fn memory_a_burst_on_another_thread_freed_goes_back_by_itself() {
    // 128 MB in small blocks on a thread, every 1000th kept: the free space
    // lies between live blocks.
    let kept = std::thread::spawn(|| {
        let blocks: Vec<Vec<u8>> = (0..256_000).map(|i| vec![u8::try_from(i % 251).unwrap(); 500]).collect();
        blocks.into_iter().step_by(1000).collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let before = resident_kb();
    // The background thread purges pages freed more than a second ago; give
    // it a generous while on a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = resident_kb();
    while before <= after + 64 * 1024 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        after = resident_kb();
    }
    assert!(before > after + 64 * 1024, "resident {before} kB after the burst, {after} kB later");
    assert!(kept.iter().all(|b| b.len() == 500), "the kept blocks are intact");
}
