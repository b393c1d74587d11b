#include <sqlite3.h>

/// sqlite3_config is variadic (Swift cannot call it). Turns off SQLite's memory statistics, which
/// take a process-wide mutex on every allocation; must run before SQLite initialises. Returns
/// SQLITE_MISUSE when SQLite is already initialised (then nothing changes).
static inline int aurum_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
