//! `plaudit::memory::trim` hands back memory a burst freed on another thread.
//! A test binary of its own, so that no other test allocates meanwhile.

mod common;

use common::resident_kb;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_trim_returns_what_a_burst_on_another_thread_freed() {
    // 128 MB in small blocks on a thread (so in an arena of its own), every
    // 1000th kept: the free space lies between live blocks, where the
    // allocator's own trimming of the heap's top never reaches it.
    let kept = std::thread::spawn(|| {
        let blocks: Vec<Vec<u8>> = (0..256_000).map(|i| vec![u8::try_from(i % 251).unwrap(); 500]).collect();
        blocks.into_iter().step_by(1000).collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let before = resident_kb();
    plaudit::memory::trim();
    let after = resident_kb();
    assert!(before > after + 64 * 1024, "resident {before} kB before the trim, {after} kB after");
    assert!(kept.iter().all(|b| b.len() == 500), "the kept blocks are intact");
}
