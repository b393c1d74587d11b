#ifndef AURUM_SQLITE_H
#define AURUM_SQLITE_H

/* ---- aurum-wal: the default VFS with fewer, larger writes ------------------------------------
 * SQLite writes each WAL frame as two pwrite calls (its 24-byte header, then the page), and a
 * checkpoint writes the database page by page. On Linux each call pays the page cache's
 * per-call cost, and a 24-byte write into a page is a partial-page write. This VFS wraps the
 * default one and gathers consecutive writes of a WAL or main database file into a 64 KiB buffer
 * (the unix VFS writes at most 128 KiB per call), written out as one call:
 *   - before any other operation on that file (read, sync, truncate, size, lock, file control…),
 *     and when a write does not follow the buffered bytes;
 *   - for a WAL file, right after the page of a commit frame (a frame header whose "database size
 *     after commit" field is not 0), so that the commit's write error, if any, is the write's own
 *     and SQLite fails the commit before it publishes it in the wal-index;
 *   - for a main database's WAL, before the database's shared-memory calls (barrier, lock, map,
 *     unmap): the wal-index header that makes frames visible to other connections is written
 *     after a barrier, so no connection can see a frame whose bytes are still buffered. The
 *     database's own buffered pages (a checkpoint's) are written there too.
 * A process that dies loses only buffered bytes of a transaction that did not commit, as if it
 * had died before writing them. Files other than main databases and WAL files pass through.
 * The WAL file is matched to its database by sqlite3_filename_database (the pager allocates both
 * names together). Registered once per process (aurum_wal_vfs_register); used by name. */

/* Registers the "aurum-wal" VFS (not as the default); safe to call again. Returns SQLITE_OK (0),
 * or SQLite's error. */
int aurum_wal_vfs_register(void);

#endif
