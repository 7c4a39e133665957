/*
 * json.c — FEEL values to and from JSON (RFC 8259), exactly.
 *
 * baton has its own small parser here instead of jansson's because jansson
 * reads numbers as doubles: a variable {"amount": 0.1} must become the
 * decimal 0.1, and 12345678901234567890 must not lose digits. The parser is
 * a recursive descent over the bytes; it validates UTF-8, rejects trailing
 * garbage, and limits nesting to FEEL_JSON_MAX_DEPTH so hostile input cannot
 * exhaust the stack. Objects keep their key order; a repeated key keeps the
 * last value (as most JSON readers do).
 *
 * Printing: numbers in their shortest exact decimal form (0.3, not
 * 0.29999999999999999), temporal values as ISO 8601 strings, ranges and
 * functions as null.
 */
#include <stdio.h>
#include <string.h>

#include "feel/feel_int.h"

#define FEEL_JSON_MAX_DEPTH 1000

typedef struct jparser {
    const char *s;
    size_t len, pos;
    int depth;
    bt_error *err;
} jparser;

static int jfail(jparser *p, const char *what) {
    int line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)p->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    bt_error_set(p->err, BT_EINVAL, "invalid JSON: %s at line %d, column %d", what, line, col);
    if (p->err) {
        p->err->line = line;
        p->err->column = col;
    }
    return BT_EINVAL;
}

static void jspace(jparser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
size_t feel_utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(jparser *p, uint32_t *out) {
    if (p->pos + 4 > p->len)
        return jfail(p, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[p->pos + (size_t)i]);
        if (h < 0)
            return jfail(p, "invalid \\u escape");
        v = v << 4 | (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static void put_utf8(bt_buf *b, uint32_t cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    bt_buf_append(b, u, n);
}

/* Reads a string at the opening quote into b (reset first). */
static int read_string(jparser *p, bt_buf *b) {
    bt_buf_reset(b);
    p->pos++; /* " */
    for (;;) {
        if (p->pos >= p->len)
            return jfail(p, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20)
            return jfail(p, "control character in string");
        if (c == '\\') {
            if (++p->pos >= p->len)
                return jfail(p, "unterminated string");
            char e = p->s[p->pos++];
            uint32_t cp;
            switch (e) {
            case '"': bt_buf_putc(b, '"'); break;
            case '\\': bt_buf_putc(b, '\\'); break;
            case '/': bt_buf_putc(b, '/'); break;
            case 'b': bt_buf_putc(b, '\b'); break;
            case 'f': bt_buf_putc(b, '\f'); break;
            case 'n': bt_buf_putc(b, '\n'); break;
            case 'r': bt_buf_putc(b, '\r'); break;
            case 't': bt_buf_putc(b, '\t'); break;
            case 'u':
                if (read_hex4(p, &cp) < 0)
                    return BT_EINVAL;
                if (cp >= 0xD800 && cp < 0xDC00) {
                    uint32_t lo;
                    if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                        return jfail(p, "unpaired surrogate");
                    p->pos += 2;
                    if (read_hex4(p, &lo) < 0)
                        return BT_EINVAL;
                    if (lo < 0xDC00 || lo > 0xDFFF)
                        return jfail(p, "unpaired surrogate");
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return jfail(p, "unpaired surrogate");
                }
                put_utf8(b, cp);
                break;
            default: p->pos--; return jfail(p, "invalid escape");
            }
            continue;
        }
        size_t n = feel_utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (!n)
            return jfail(p, "invalid UTF-8");
        bt_buf_append(b, p->s + p->pos, n);
        p->pos += n;
    }
    return b->failed ? BT_ENOMEM : 0;
}

static bool isdig(char c) {
    return c >= '0' && c <= '9';
}

static int read_number(jparser *p, feel_value **out) {
    size_t start = p->pos;
    const char *s = p->s;
    if (p->pos < p->len && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !isdig(s[p->pos]))
        return jfail(p, "invalid number");
    if (s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && isdig(s[p->pos]))
            p->pos++;
    bool integral = true;
    if (p->pos < p->len && s[p->pos] == '.') {
        integral = false;
        p->pos++;
        if (p->pos >= p->len || !isdig(s[p->pos]))
            return jfail(p, "invalid number");
        while (p->pos < p->len && isdig(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !isdig(s[p->pos]))
            return jfail(p, "invalid number");
        while (p->pos < p->len && isdig(s[p->pos]))
            p->pos++;
    }
    size_t n = p->pos - start;
    if (integral && n <= 18) {
        int64_t v = 0;
        bool neg = s[start] == '-';
        for (size_t i = start + neg; i < p->pos; i++)
            v = v * 10 + (s[i] - '0');
        *out = feel_number_from_int(neg ? -v : v);
        return *out ? 0 : BT_ENOMEM;
    }
    feel_dec d;
    if (feel_dec_parse(s + start, n, &d) < 0) {
        p->pos = start;
        return jfail(p, "number out of range");
    }
    *out = feel_number_from_dec(d);
    return *out ? 0 : BT_ENOMEM;
}

static bool match_word(jparser *p, const char *w) {
    size_t n = strlen(w);
    if (p->len - p->pos >= n && memcmp(p->s + p->pos, w, n) == 0) {
        p->pos += n;
        return true;
    }
    return false;
}

static int read_value(jparser *p, bt_buf *scratch, feel_value **out);

static int read_array(jparser *p, bt_buf *scratch, feel_value **out) {
    p->pos++; /* [ */
    feel_value *list = feel_list_new();
    if (!list)
        return BT_ENOMEM;
    int rc = 0;
    jspace(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        *out = list;
        return 0;
    }
    for (;;) {
        feel_value *item;
        if ((rc = read_value(p, scratch, &item)) < 0 || (rc = feel_list_push(list, item)) < 0)
            break;
        jspace(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            *out = list;
            return 0;
        }
        rc = jfail(p, "expected ',' or ']'");
        break;
    }
    feel_value_unref(list);
    return rc;
}

static int read_object(jparser *p, bt_buf *scratch, feel_value **out) {
    p->pos++; /* { */
    feel_value *ctx = feel_context_new();
    if (!ctx)
        return BT_ENOMEM;
    int rc = 0;
    jspace(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        *out = ctx;
        return 0;
    }
    for (;;) {
        jspace(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            rc = jfail(p, "expected a string key");
            break;
        }
        if ((rc = read_string(p, scratch)) < 0)
            break;
        char *key = bt_strndup(scratch->data ? scratch->data : "", scratch->len);
        size_t klen = scratch->len;
        if (!key) {
            rc = BT_ENOMEM;
            break;
        }
        jspace(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            bt_free(key);
            rc = jfail(p, "expected ':'");
            break;
        }
        p->pos++;
        feel_value *val;
        rc = read_value(p, scratch, &val);
        if (rc == 0)
            rc = feel_context_put(ctx, key, klen, val);
        bt_free(key);
        if (rc < 0)
            break;
        jspace(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            *out = ctx;
            return 0;
        }
        rc = jfail(p, "expected ',' or '}'");
        break;
    }
    feel_value_unref(ctx);
    return rc;
}

static int read_value(jparser *p, bt_buf *scratch, feel_value **out) {
    jspace(p);
    if (p->pos >= p->len)
        return jfail(p, "unexpected end of input");
    char c = p->s[p->pos];
    int rc;
    switch (c) {
    case '{':
    case '[':
        if (++p->depth > FEEL_JSON_MAX_DEPTH)
            return jfail(p, "nesting too deep");
        rc = c == '{' ? read_object(p, scratch, out) : read_array(p, scratch, out);
        p->depth--;
        return rc;
    case '"':
        if ((rc = read_string(p, scratch)) < 0)
            return rc;
        *out = feel_string_new(scratch->data ? scratch->data : "", scratch->len);
        return *out ? 0 : BT_ENOMEM;
    case 't':
        if (!match_word(p, "true"))
            return jfail(p, "unexpected character");
        *out = feel_bool(true);
        return 0;
    case 'f':
        if (!match_word(p, "false"))
            return jfail(p, "unexpected character");
        *out = feel_bool(false);
        return 0;
    case 'n':
        if (!match_word(p, "null"))
            return jfail(p, "unexpected character");
        *out = feel_null();
        return 0;
    default:
        if (c == '-' || isdig(c))
            return read_number(p, out);
        return jfail(p, "unexpected character");
    }
}

int feel_value_from_json(const char *json, size_t len, feel_value **out, bt_error *err) {
    jparser p = {.s = json, .len = len, .err = err};
    bt_buf scratch = BT_BUF_INIT;
    *out = NULL;
    feel_value *v;
    int rc = read_value(&p, &scratch, &v);
    bt_buf_free(&scratch);
    if (rc == 0) {
        jspace(&p);
        if (p.pos != p.len) {
            feel_value_unref(v);
            rc = jfail(&p, "trailing characters");
        }
    }
    if (rc < 0) {
        if (rc == BT_ENOMEM)
            bt_error_set(err, BT_ENOMEM, "out of memory");
        return rc;
    }
    *out = v;
    return 0;
}

int feel_value_to_json(const feel_value *v, bt_buf *out) {
    switch (feel_value_type(v)) {
    case FEEL_NULL:
    case FEEL_RANGE:
    case FEEL_FUNCTION: return bt_buf_puts(out, "null");
    case FEEL_BOOLEAN: return bt_buf_puts(out, v->u.b ? "true" : "false");
    case FEEL_NUMBER:
    case FEEL_STRING: return feel_value_to_string(v, out, false);
    case FEEL_LIST:
        bt_buf_putc(out, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                bt_buf_putc(out, ',');
            feel_value_to_json(v->u.list.items[i], out);
        }
        return bt_buf_putc(out, ']');
    case FEEL_CONTEXT:
        bt_buf_putc(out, '{');
        for (size_t i = 0; i < v->u.ctx.n; i++) {
            if (i)
                bt_buf_putc(out, ',');
            bt_buf_json_string(out, v->u.ctx.e[i].key, v->u.ctx.e[i].len);
            bt_buf_putc(out, ':');
            feel_value_to_json(v->u.ctx.e[i].val, out);
        }
        return bt_buf_putc(out, '}');
    default: {
        bt_buf text = BT_BUF_INIT;
        feel_temporal_format(v, &text);
        if (text.failed) {
            out->failed = true;
            return BT_ENOMEM;
        }
        int rc = bt_buf_json_string(out, text.data ? text.data : "", text.len);
        bt_buf_free(&text);
        return rc;
    }
    }
}
