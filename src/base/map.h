/*
 * map.h — hash maps for the engine's indexes: 64-bit keys to pointers, and
 * strings to pointers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), power-of-two capacity, load factor at most 1/2. Iteration
 * order is the slot order: deterministic for the same sequence of
 * operations, which the engine relies on (same commands → same records).
 *
 * Allocation aborts on out-of-memory (bt_x*): these maps hold the server's
 * in-memory state, where STYLE.md lets an allocation failure abort.
 * A map owns its slot array only; values are the caller's. bt_smap copies
 * its keys. Not thread-safe.
 */
#ifndef BATON_MAP_H
#define BATON_MAP_H

#include "base/base.h"

typedef struct bt_map_slot {
    uint64_t key; /* 0 marks an empty slot: key 0 cannot be stored */
    void *value;
} bt_map_slot;

typedef struct bt_map {
    bt_map_slot *slots;
    size_t cap; /* 0 or a power of two */
    size_t count;
} bt_map;

#define BT_MAP_INIT                                                                                \
    { NULL, 0, 0 }

/* Value for key, or NULL. */
void *bt_map_get(const bt_map *m, uint64_t key);
/* Inserts or replaces. key must not be 0. */
void bt_map_put(bt_map *m, uint64_t key, void *value);
/* Removes key; returns its value or NULL when absent. */
void *bt_map_remove(bt_map *m, uint64_t key);
void bt_map_free(bt_map *m);
/* Iteration: for (size_t i = 0; bt_map_next(m, &i, &k, &v);) ... — do not
 * modify the map while iterating. */
bool bt_map_next(const bt_map *m, size_t *iter, uint64_t *key, void **value);

typedef struct bt_smap_slot {
    char *key; /* NULL marks an empty slot */
    uint64_t hash;
    void *value;
} bt_smap_slot;

typedef struct bt_smap {
    bt_smap_slot *slots;
    size_t cap;
    size_t count;
} bt_smap;

#define BT_SMAP_INIT                                                                               \
    { NULL, 0, 0 }

void *bt_smap_get(const bt_smap *m, const char *key);
void *bt_smap_getn(const bt_smap *m, const char *key, size_t len);
/* Inserts (copying key) or replaces the value. */
void bt_smap_put(bt_smap *m, const char *key, void *value);
void *bt_smap_remove(bt_smap *m, const char *key);
void bt_smap_free(bt_smap *m);
bool bt_smap_next(const bt_smap *m, size_t *iter, const char **key, void **value);

#endif
