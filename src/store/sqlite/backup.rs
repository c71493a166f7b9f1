//! Backups of a SQLite database while it serves: SQLite's online backup
//! copies the pages in steps, all inside one read transaction on the
//! source, so the copy is the database as of the moment it began. In WAL
//! mode a reader never blocks the server's writers, and their writes never
//! make the copy start over.

use std::{path::Path, time::Duration};

use rusqlite::{
    Connection, OpenFlags,
    backup::{Backup, StepResult},
};

use crate::store::{StoreError, because};

/// Pages copied a step (of 4 KiB: 4 MiB a step), and the pause between steps.
const PAGES_A_STEP: std::os::raw::c_int = 1024;
const PAUSE: Duration = Duration::from_millis(5);

/// Copies the database at `source` into a new file `target` (which must
/// not exist yet), calling `progress(copied, total)` pages as it goes; then
/// checks the copy's integrity. Returns the copy's size in bytes.
pub fn backup(source: &Path, target: &Path, progress: impl Fn(u64, u64)) -> Result<u64, StoreError> {
    if target.exists() {
        return Err(StoreError::other(format!("{} already exists; pick another file", target.display())));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let from = Connection::open_with_flags(source, flags)
        .map_err(|e| StoreError::other(because(format!("cannot open {}", source.display()), e)))?;
    // One snapshot for every step (the steps reuse an open read transaction).
    from.execute_batch("BEGIN")
        .and_then(|()| from.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)))
        .map_err(|e| StoreError::other(because(format!("cannot read {}", source.display()), e)))?;
    let mut to = Connection::open(target)
        .map_err(|e| StoreError::other(because(format!("cannot create {}", target.display()), e)))?;
    {
        let copy = Backup::new(&from, &mut to).map_err(|e| StoreError::other(because("cannot start the backup", e)))?;
        loop {
            let step = copy.step(PAGES_A_STEP).map_err(|e| StoreError::other(because("the backup failed", e)))?;
            let p = copy.progress();
            let total = u64::try_from(p.pagecount).unwrap_or(0);
            progress(total.saturating_sub(u64::try_from(p.remaining).unwrap_or(0)), total);
            if step == StepResult::Done {
                break;
            }
            // More to copy: leave the disk to the server a moment.
            std::thread::sleep(PAUSE);
        }
    }
    let check: String = to
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| StoreError::other(because("cannot check the copy", e)))?;
    if check != "ok" {
        return Err(StoreError::other(format!("the copy is damaged: {check}")));
    }
    drop(to);
    std::fs::metadata(target).map(|m| m.len()).map_err(|e| StoreError::other(because("cannot read the copy", e)))
}
