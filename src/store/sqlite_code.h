/*
 * sqlite_code.h — SQLite result codes as baton's BT_E* codes, for the two
 * SQLite databases (the store, sqlite.c, and the search index, index.c).
 */
#ifndef BATON_STORE_SQLITE_CODE_H
#define BATON_STORE_SQLITE_CODE_H

#include <sqlite3.h>

#include "base/base.h"

static inline int sqlite_bt_code(int rc) {
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return BT_ECORRUPT;
    case SQLITE_NOMEM: return BT_ENOMEM;
    case SQLITE_CONSTRAINT: return BT_ECONFLICT;
    default: return BT_EIO;
    }
}

#endif
