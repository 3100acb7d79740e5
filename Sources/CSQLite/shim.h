#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: "copy the bytes before returning".
static inline void (*noex_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
