/*
 * map.c — the hash maps of map.h: linear probing, backward-shift deletion.
 */
#include "base/map.h"

#include <string.h>

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* ---- uint64 → pointer ------------------------------------------------ */

void *bt_map_get(const bt_map *m, uint64_t key) {
    if (!m->cap || !key)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->slots[i].key == key)
            return m->slots[i].value;
        if (!m->slots[i].key)
            return NULL;
    }
}

static void map_grow(bt_map *m) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    bt_map_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = bt_xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->count = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            bt_map_put(m, old[i].key, old[i].value);
    bt_free(old);
}

void bt_map_put(bt_map *m, uint64_t key, void *value) {
    if ((m->count + 1) * 2 > m->cap)
        map_grow(m);
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->slots[i].key == key) {
            m->slots[i].value = value;
            return;
        }
        if (!m->slots[i].key) {
            m->slots[i].key = key;
            m->slots[i].value = value;
            m->count++;
            return;
        }
    }
}

void *bt_map_remove(bt_map *m, uint64_t key) {
    if (!m->cap || !key)
        return NULL;
    size_t mask = m->cap - 1;
    size_t i = mix64(key) & mask;
    while (m->slots[i].key != key) {
        if (!m->slots[i].key)
            return NULL;
        i = (i + 1) & mask;
    }
    void *value = m->slots[i].value;
    /* Backward-shift: move later members of the probe run into the hole. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = mix64(m->slots[j].key) & mask;
        /* j may move to hole if home is not in the cyclic range (hole, j]. */
        bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].key = 0;
    m->slots[hole].value = NULL;
    m->count--;
    return value;
}

void bt_map_free(bt_map *m) {
    bt_free(m->slots);
    *m = (bt_map)BT_MAP_INIT;
}

bool bt_map_next(const bt_map *m, size_t *iter, uint64_t *key, void **value) {
    for (size_t i = *iter; i < m->cap; i++) {
        if (m->slots[i].key) {
            *iter = i + 1;
            if (key)
                *key = m->slots[i].key;
            if (value)
                *value = m->slots[i].value;
            return true;
        }
    }
    *iter = m->cap;
    return false;
}

/* ---- string → pointer ------------------------------------------------------ */

static uint64_t str_hash(const char *s, size_t n) {
    return mix64(bt_hash64(s, n));
}

static bt_smap_slot *smap_find(const bt_smap *m, const char *key, size_t len, uint64_t h) {
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        bt_smap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->hash == h && strncmp(s->key, key, len) == 0 && s->key[len] == 0)
            return s;
    }
}

void *bt_smap_getn(const bt_smap *m, const char *key, size_t len) {
    bt_smap_slot *s = smap_find(m, key, len, str_hash(key, len));
    return s ? s->value : NULL;
}

void *bt_smap_get(const bt_smap *m, const char *key) {
    return bt_smap_getn(m, key, strlen(key));
}

static void smap_insert_slot(bt_smap *m, char *key, uint64_t h, void *value) {
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key)
        i = (i + 1) & mask;
    m->slots[i] = (bt_smap_slot){key, h, value};
    m->count++;
}

void bt_smap_put(bt_smap *m, const char *key, void *value) {
    size_t len = strlen(key);
    uint64_t h = str_hash(key, len);
    bt_smap_slot *s = smap_find(m, key, len, h);
    if (s) {
        s->value = value;
        return;
    }
    if ((m->count + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        bt_smap_slot *old = m->slots;
        size_t old_cap = m->cap;
        m->slots = bt_xcalloc(cap, sizeof *m->slots);
        m->cap = cap;
        m->count = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].key)
                smap_insert_slot(m, old[i].key, old[i].hash, old[i].value);
        bt_free(old);
    }
    smap_insert_slot(m, bt_xstrdup(key), h, value);
}

void *bt_smap_remove(bt_smap *m, const char *key) {
    size_t len = strlen(key);
    bt_smap_slot *s = smap_find(m, key, len, str_hash(key, len));
    if (!s)
        return NULL;
    void *value = s->value;
    size_t mask = m->cap - 1;
    size_t hole = (size_t)(s - m->slots);
    bt_free(s->key);
    for (size_t j = (hole + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t home = m->slots[j].hash & mask;
        bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!in_range) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole] = (bt_smap_slot){NULL, 0, NULL};
    m->count--;
    return value;
}

void bt_smap_free(bt_smap *m) {
    for (size_t i = 0; i < m->cap; i++)
        bt_free(m->slots[i].key);
    bt_free(m->slots);
    *m = (bt_smap)BT_SMAP_INIT;
}

bool bt_smap_next(const bt_smap *m, size_t *iter, const char **key, void **value) {
    for (size_t i = *iter; i < m->cap; i++) {
        if (m->slots[i].key) {
            *iter = i + 1;
            if (key)
                *key = m->slots[i].key;
            if (value)
                *value = m->slots[i].value;
            return true;
        }
    }
    *iter = m->cap;
    return false;
}
