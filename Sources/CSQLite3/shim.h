#include <sqlite3.h>

/// sqlite3_config is variadic (Swift cannot call it). Turns off SQLite's memory statistics, which
/// take a process-wide mutex on every allocation; must run before SQLite initialises. Returns
/// SQLITE_MISUSE when SQLite is already initialised (then nothing changes).
static inline int aurum_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* ---- aurum_feed: rows handed to SQLite in place ----------------------------------------------
 * A virtual table module whose rows are cells that the caller filled (`aurum_feed`): one
 * `INSERT INTO t SELECT c0, c1, … FROM temp.<name> WHERE feed = ?1`, with ?1 bound to the feed by
 * sqlite3_bind_pointer(…, "aurum_feed", NULL), inserts all of its rows in one statement step, with
 * one xColumn call per value and no parameter binding. The bytes a cell names are read in place;
 * they must stay valid until that step returns. Created as
 * `CREATE VIRTUAL TABLE temp.<name> USING aurum_feed(<width>)`; columns are c0…c<width-1> and the
 * hidden `feed`, which the plan must constrain with `=` (else SQLITE_CONSTRAINT). */

typedef struct aurum_feed_cell {
    long long num;       /* the integer, or the bit pattern of the real */
    const void *bytes;   /* text (UTF-8) or blob bytes */
    int count;           /* their length */
    int kind;            /* 0 null, 1 integer, 2 real, 3 text, 4 blob */
} aurum_feed_cell;

typedef struct aurum_feed {
    const aurum_feed_cell *cells;   /* rows × width cells, row-major */
    long long rows;
    int width;
} aurum_feed;

typedef struct aurum_feed_vtab { sqlite3_vtab base; int width; } aurum_feed_vtab;
typedef struct aurum_feed_cursor { sqlite3_vtab_cursor base; const aurum_feed *feed; long long row; } aurum_feed_cursor;

static int aurum_feed_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out, char **err) {
    (void)aux;
    int width = 0;
    if (argc > 3) for (const char *p = argv[3]; *p >= '0' && *p <= '9' && width <= 32767; p++) width = width * 10 + (*p - '0');
    if (width < 1 || width > 32767) {
        *err = sqlite3_mprintf("aurum_feed: the width must be 1 to 32767 columns");
        return SQLITE_ERROR;
    }
    sqlite3_str *s = sqlite3_str_new(db);
    sqlite3_str_appendall(s, "CREATE TABLE x(");
    for (int i = 0; i < width; i++) sqlite3_str_appendf(s, "c%d, ", i);
    sqlite3_str_appendall(s, "feed HIDDEN)");
    char *sql = sqlite3_str_finish(s);
    if (!sql) return SQLITE_NOMEM;
    int rc = sqlite3_declare_vtab(db, sql);
    sqlite3_free(sql);
    if (rc != SQLITE_OK) return rc;
    aurum_feed_vtab *v = (aurum_feed_vtab *)sqlite3_malloc(sizeof *v);
    if (!v) return SQLITE_NOMEM;
    *v = (aurum_feed_vtab){ .width = width };
    *out = &v->base;
    return SQLITE_OK;
}

static int aurum_feed_best_index(sqlite3_vtab *tab, sqlite3_index_info *info) {
    int width = ((aurum_feed_vtab *)tab)->width;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn == width && c->op == SQLITE_INDEX_CONSTRAINT_EQ && c->usable) {
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1;
            info->estimatedRows = 1000;
            info->idxNum = 1;
            return SQLITE_OK;
        }
    }
    return SQLITE_CONSTRAINT;
}

static int aurum_feed_disconnect(sqlite3_vtab *tab) { sqlite3_free(tab); return SQLITE_OK; }

static int aurum_feed_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out) {
    (void)tab;
    aurum_feed_cursor *c = (aurum_feed_cursor *)sqlite3_malloc(sizeof *c);
    if (!c) return SQLITE_NOMEM;
    *c = (aurum_feed_cursor){ .feed = 0, .row = 0 };
    *out = &c->base;
    return SQLITE_OK;
}

static int aurum_feed_close(sqlite3_vtab_cursor *cur) { sqlite3_free(cur); return SQLITE_OK; }

static int aurum_feed_filter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc, sqlite3_value **argv) {
    (void)idxNum; (void)idxStr;
    aurum_feed_cursor *c = (aurum_feed_cursor *)cur;
    c->feed = argc > 0 ? (const aurum_feed *)sqlite3_value_pointer(argv[0], "aurum_feed") : 0;
    c->row = 0;
    return SQLITE_OK;
}

static int aurum_feed_next(sqlite3_vtab_cursor *cur) { ((aurum_feed_cursor *)cur)->row++; return SQLITE_OK; }

static int aurum_feed_eof(sqlite3_vtab_cursor *cur) {
    aurum_feed_cursor *c = (aurum_feed_cursor *)cur;
    return !c->feed || c->row >= c->feed->rows;
}

static int aurum_feed_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
    aurum_feed_cursor *c = (aurum_feed_cursor *)cur;
    const aurum_feed *f = c->feed;
    if (!f || i >= f->width) { sqlite3_result_null(ctx); return SQLITE_OK; }
    const aurum_feed_cell *cell = &f->cells[c->row * f->width + i];
    switch (cell->kind) {
    case 1: sqlite3_result_int64(ctx, cell->num); break;
    case 2: { union { long long i; double d; } u; u.i = cell->num; sqlite3_result_double(ctx, u.d); break; }
    case 3: sqlite3_result_text(ctx, cell->bytes ? (const char *)cell->bytes : "", cell->count, SQLITE_STATIC); break;
    case 4:
        if (cell->bytes && cell->count > 0) sqlite3_result_blob(ctx, cell->bytes, cell->count, SQLITE_STATIC);
        else sqlite3_result_zeroblob(ctx, 0);
        break;
    default: sqlite3_result_null(ctx);
    }
    return SQLITE_OK;
}

static int aurum_feed_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out) { *out = ((aurum_feed_cursor *)cur)->row; return SQLITE_OK; }

static const sqlite3_module aurum_feed_module = {
    .iVersion = 0,
    .xCreate = aurum_feed_connect, .xConnect = aurum_feed_connect,
    .xBestIndex = aurum_feed_best_index,
    .xDisconnect = aurum_feed_disconnect, .xDestroy = aurum_feed_disconnect,
    .xOpen = aurum_feed_open, .xClose = aurum_feed_close,
    .xFilter = aurum_feed_filter, .xNext = aurum_feed_next, .xEof = aurum_feed_eof,
    .xColumn = aurum_feed_column, .xRowid = aurum_feed_rowid,
};

/* Registers the module on a connection (once per connection). */
static inline int aurum_feed_register(sqlite3 *db) {
    return sqlite3_create_module_v2(db, "aurum_feed", &aurum_feed_module, 0, 0);
}

/* Binds a feed to parameter i of a statement (valid until the statement is reset). */
static inline int aurum_feed_bind(sqlite3_stmt *st, int i, const aurum_feed *feed) {
    return sqlite3_bind_pointer(st, i, (void *)feed, "aurum_feed", 0);
}
