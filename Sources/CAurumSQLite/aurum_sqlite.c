/* The "aurum-wal" VFS: see include/aurum_sqlite.h. */
#include "aurum_sqlite.h"
#include <sqlite3.h>
#include <pthread.h>
#include <string.h>

typedef struct aurum_wal_file {
    sqlite3_file base;
    sqlite3_file *real;             /* the wrapped file, allocated right after this struct */
    unsigned char *buf;             /* gathered bytes (NULL: this file passes writes through) */
    int cap, len;
    sqlite3_int64 off;              /* file offset of buf[0] */
    int commitPending;              /* a commit frame's header was just buffered (WAL) */
    const char *dbName;             /* main database: the name SQLite opened it by */
    struct aurum_wal_file *wal;     /* main database: its open WAL file */
    struct aurum_wal_file *db;      /* WAL: its main database file */
    struct aurum_wal_file *next;    /* in aurum_wal_dbs */
} aurum_wal_file;

static sqlite3_vfs *aurum_wal_real;
static sqlite3_vfs aurum_wal_vfs_struct;
static pthread_mutex_t aurum_wal_mutex = PTHREAD_MUTEX_INITIALIZER;
static aurum_wal_file *aurum_wal_dbs;   /* open main database files */

static int aurum_wal_flush(aurum_wal_file *f) {
    if (!f || f->len == 0) return SQLITE_OK;
    int n = f->len;
    f->len = 0;
    return f->real->pMethods->xWrite(f->real, f->buf, n, f->off);
}

/* A main database file's shared-memory or lock call: its WAL's bytes, then its own. */
static int aurum_wal_flush_db(aurum_wal_file *f) {
    int rc = aurum_wal_flush(f->wal);
    int rc2 = aurum_wal_flush(f);
    return rc != SQLITE_OK ? rc : rc2;
}

#define AURUM_WAL_FLUSH(f) do { int rc_ = aurum_wal_flush(f); if (rc_ != SQLITE_OK) return rc_; } while (0)
#define AURUM_WAL_FLUSH_DB(f) do { int rc_ = aurum_wal_flush_db(f); if (rc_ != SQLITE_OK) return rc_; } while (0)
#define AURUM_WAL_REAL(p) (((aurum_wal_file *)(p))->real)

static int aurum_wal_close(sqlite3_file *p) {
    aurum_wal_file *f = (aurum_wal_file *)p;
    int rc = aurum_wal_flush(f);
    pthread_mutex_lock(&aurum_wal_mutex);
    if (f->dbName) {
        aurum_wal_file **pp = &aurum_wal_dbs;
        while (*pp && *pp != f) pp = &(*pp)->next;
        if (*pp) *pp = f->next;
        if (f->wal) f->wal->db = 0;
    } else if (f->db) {
        f->db->wal = 0;
    }
    pthread_mutex_unlock(&aurum_wal_mutex);
    int rc2 = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buf);
    return rc != SQLITE_OK ? rc : rc2;
}

static int aurum_wal_write(sqlite3_file *p, const void *b, int n, sqlite3_int64 off) {
    aurum_wal_file *f = (aurum_wal_file *)p;
    if (!f->buf) return f->real->pMethods->xWrite(f->real, b, n, off);
    int commitPage = f->commitPending;
    f->commitPending = 0;
    if (f->len > 0 && off == f->off + f->len && f->len + n <= f->cap) {
        memcpy(f->buf + f->len, b, (size_t)n);
        f->len += n;
    } else {
        AURUM_WAL_FLUSH(f);
        if (n >= f->cap) return f->real->pMethods->xWrite(f->real, b, n, off);
        memcpy(f->buf, b, (size_t)n);
        f->len = n;
        f->off = off;
    }
    if (commitPage) return aurum_wal_flush(f);
    /* A WAL frame header (24 bytes) whose bytes 4-7, the database size after commit, are not 0. */
    if (f->db && n == 24) {
        const unsigned char *h = (const unsigned char *)b;
        f->commitPending = (h[4] | h[5] | h[6] | h[7]) != 0;
    }
    return SQLITE_OK;
}

static int aurum_wal_read(sqlite3_file *p, void *b, int n, sqlite3_int64 off) {
    AURUM_WAL_FLUSH((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xRead(AURUM_WAL_REAL(p), b, n, off);
}
static int aurum_wal_truncate(sqlite3_file *p, sqlite3_int64 size) {
    AURUM_WAL_FLUSH((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xTruncate(AURUM_WAL_REAL(p), size);
}
static int aurum_wal_sync(sqlite3_file *p, int flags) {
    AURUM_WAL_FLUSH((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xSync(AURUM_WAL_REAL(p), flags);
}
static int aurum_wal_size(sqlite3_file *p, sqlite3_int64 *size) {
    AURUM_WAL_FLUSH((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xFileSize(AURUM_WAL_REAL(p), size);
}
static int aurum_wal_lock(sqlite3_file *p, int level) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xLock(AURUM_WAL_REAL(p), level);
}
static int aurum_wal_unlock(sqlite3_file *p, int level) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xUnlock(AURUM_WAL_REAL(p), level);
}
static int aurum_wal_check_reserved(sqlite3_file *p, int *out) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xCheckReservedLock(AURUM_WAL_REAL(p), out);
}
static int aurum_wal_file_control(sqlite3_file *p, int op, void *arg) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xFileControl(AURUM_WAL_REAL(p), op, arg);
}
static int aurum_wal_sector_size(sqlite3_file *p) { return AURUM_WAL_REAL(p)->pMethods->xSectorSize(AURUM_WAL_REAL(p)); }
static int aurum_wal_device(sqlite3_file *p) { return AURUM_WAL_REAL(p)->pMethods->xDeviceCharacteristics(AURUM_WAL_REAL(p)); }
static int aurum_wal_shm_map(sqlite3_file *p, int i, int size, int extend, void volatile **out) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xShmMap(AURUM_WAL_REAL(p), i, size, extend, out);
}
static int aurum_wal_shm_lock(sqlite3_file *p, int offset, int n, int flags) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xShmLock(AURUM_WAL_REAL(p), offset, n, flags);
}
static void aurum_wal_shm_barrier(sqlite3_file *p) {
    /* No error can be returned here; a commit's bytes were written at its commit frame. */
    (void)aurum_wal_flush_db((aurum_wal_file *)p);
    AURUM_WAL_REAL(p)->pMethods->xShmBarrier(AURUM_WAL_REAL(p));
}
static int aurum_wal_shm_unmap(sqlite3_file *p, int deleteFlag) {
    AURUM_WAL_FLUSH_DB((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xShmUnmap(AURUM_WAL_REAL(p), deleteFlag);
}
static int aurum_wal_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out) {
    AURUM_WAL_FLUSH((aurum_wal_file *)p);
    return AURUM_WAL_REAL(p)->pMethods->xFetch(AURUM_WAL_REAL(p), off, n, out);
}
static int aurum_wal_unfetch(sqlite3_file *p, sqlite3_int64 off, void *ptr) {
    return AURUM_WAL_REAL(p)->pMethods->xUnfetch(AURUM_WAL_REAL(p), off, ptr);
}

static const sqlite3_io_methods aurum_wal_methods = {
    3, aurum_wal_close, aurum_wal_read, aurum_wal_write, aurum_wal_truncate, aurum_wal_sync, aurum_wal_size,
    aurum_wal_lock, aurum_wal_unlock, aurum_wal_check_reserved, aurum_wal_file_control, aurum_wal_sector_size,
    aurum_wal_device, aurum_wal_shm_map, aurum_wal_shm_lock, aurum_wal_shm_barrier, aurum_wal_shm_unmap,
    aurum_wal_fetch, aurum_wal_unfetch,
};

static int aurum_wal_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *outFlags) {
    (void)vfs;
    aurum_wal_file *f = (aurum_wal_file *)p;
    memset(f, 0, sizeof *f);
    f->real = (sqlite3_file *)(f + 1);
    int rc = aurum_wal_real->xOpen(aurum_wal_real, name, f->real, flags, outFlags);
    if (rc != SQLITE_OK) { p->pMethods = 0; return rc; }
    /* The wrapped file is open: from here on xClose must run, so pMethods is always set. */
    p->pMethods = &aurum_wal_methods;
    if (!name || !(flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) || (flags & SQLITE_OPEN_READONLY)) return SQLITE_OK;
    pthread_mutex_lock(&aurum_wal_mutex);
    if (flags & SQLITE_OPEN_MAIN_DB) {
        f->dbName = name;
        f->next = aurum_wal_dbs;
        aurum_wal_dbs = f;
    } else {
        const char *db = sqlite3_filename_database(name);
        for (aurum_wal_file *g = aurum_wal_dbs; g; g = g->next) {
            if (g->dbName == db) { g->wal = f; f->db = g; break; }
        }
    }
    pthread_mutex_unlock(&aurum_wal_mutex);
    /* A WAL whose database is not known passes through (nothing would write it at a barrier). */
    if ((flags & SQLITE_OPEN_MAIN_DB) || f->db) {
        f->cap = 1 << 16;
        f->buf = (unsigned char *)sqlite3_malloc(f->cap);
        if (!f->buf) f->cap = 0;   /* no memory: write through */
    }
    return SQLITE_OK;
}

int aurum_wal_vfs_register(void) {
    if (sqlite3_vfs_find("aurum-wal")) return SQLITE_OK;
    aurum_wal_real = sqlite3_vfs_find(0);
    if (!aurum_wal_real) return SQLITE_ERROR;
    aurum_wal_vfs_struct = *aurum_wal_real;
    aurum_wal_vfs_struct.zName = "aurum-wal";
    aurum_wal_vfs_struct.szOsFile = (int)sizeof(aurum_wal_file) + aurum_wal_real->szOsFile;
    aurum_wal_vfs_struct.xOpen = aurum_wal_open;
    aurum_wal_vfs_struct.pNext = 0;
    return sqlite3_vfs_register(&aurum_wal_vfs_struct, 0);
}
