/*
 * fuzz_json.c — libFuzzer target for FEEL's JSON reader and writer.
 *
 * Process variables travel as JSON (the API, the store), so the conversion
 * must round-trip: for any input that feel_value_from_json accepts, writing
 * the value (feel_value_to_json) and reading the text back must give a value
 * equal to the first (feel_value_equal), and writing that again must give the
 * same text (the writer's output is canonical: a fixed point). A rejected
 * input must come with BT_EINVAL (or BT_ENOMEM), a message and no value.
 * A violation aborts (a finding).
 *
 *   cmake -S . -B build-fuzz -DBATON_FUZZ=ON -DCMAKE_C_COMPILER=clang
 *   cmake --build build-fuzz --target fuzz_json
 *   build-fuzz/fuzz_json tests/fuzz/corpus/json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feel/feel.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    feel_value *v = NULL;
    bt_error err;
    memset(&err, 0, sizeof err);
    int rc = feel_value_from_json((const char *)data, size, &v, &err);
    if (rc != 0) {
        CHECK(!v);
        CHECK(rc == BT_ENOMEM || (rc == BT_EINVAL && err.message[0] != '\0'));
        return 0;
    }
    CHECK(v);

    bt_buf first = BT_BUF_INIT, second = BT_BUF_INIT;
    feel_value *back = NULL;
    rc = feel_value_to_json(v, &first);
    if (rc == 0) {
        CHECK(first.data && first.len > 0);
        CHECK(feel_value_from_json(first.data, first.len, &back, &err) == 0 && back);
        CHECK(feel_value_equal(v, back));
        CHECK(feel_value_to_json(back, &second) == 0);
        CHECK(second.len == first.len && memcmp(second.data, first.data, first.len) == 0);
    } else {
        CHECK(rc == BT_ENOMEM);
    }
    feel_value_unref(back);
    feel_value_unref(v);
    bt_buf_free(&first);
    bt_buf_free(&second);
    return 0;
}
