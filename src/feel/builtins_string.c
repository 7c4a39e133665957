/*
 * builtins_string.c — FEEL's string functions.
 *
 * Strings are UTF-8; positions and lengths count code points (substring,
 * string length), never bytes. Regular expressions (matches, replace,
 * split, extract) use PCRE2 in UTF mode; the XML Schema / XPath flags of
 * DMN map onto PCRE2 options: s → DOTALL, m → MULTILINE, i → CASELESS,
 * x → EXTENDED, q → LITERAL. XPath replacement strings ("$1", "\$") are
 * rewritten to PCRE2's substitution syntax ("$1", "$$").
 *
 * Case mapping covers ASCII, Latin-1, Greek and Cyrillic: enough for the
 * business data FEEL sees, without depending on the process locale.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "feel/builtins.h"

static int str_out(const char *s, size_t n, feel_value **out) {
    return feel_bi_take(feel_string_new(s, n), out);
}

/* Byte offset of code point index cp (0-based) in s, clamped to n. */
static size_t cp_offset(const char *s, size_t n, size_t cp) {
    size_t i = 0;
    while (i < n && cp > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        cp--;
    }
    return i;
}

static bool need_string(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                        feel_value **out) {
    if (feel_arg_type(E, fn, args, n, i, FEEL_STRING))
        return true;
    *out = feel_null();
    return false;
}

/* substring(string, start position, length?) — 1-based, negative from the end. */
FEEL_BI(feel_bi_substring) {
    int64_t start, length = -1;
    if (!need_string(E, "substring", args, n, 0, out))
        return 0;
    if (!feel_arg_int(E, "substring", args, n, 1, &start) ||
        (n > 2 && feel_value_type(args[2]) != FEEL_NULL &&
         !feel_arg_int(E, "substring", args, n, 2, &length))) {
        *out = feel_null();
        return 0;
    }
    const char *s = args[0]->u.str.s;
    size_t len = args[0]->u.str.len;
    int64_t count = (int64_t)feel_utf8_count(s, len);
    int64_t from = start > 0 ? start - 1 : start == 0 ? 0 : count + start;
    if (from < 0)
        from = 0;
    if (from > count)
        from = count;
    int64_t to = length < 0 ? count : from + length;
    if (to > count)
        to = count;
    if (to < from)
        to = from;
    size_t a = cp_offset(s, len, (size_t)from), b = cp_offset(s, len, (size_t)to);
    return str_out(s + a, b - a, out);
}

FEEL_BI(feel_bi_string_length) {
    if (!need_string(E, "string length", args, n, 0, out))
        return 0;
    return feel_bi_take(
        feel_number_from_int((int64_t)feel_utf8_count(args[0]->u.str.s, args[0]->u.str.len)), out);
}

static uint32_t case_map(uint32_t c, bool upper) {
    if (upper) {
        if ((c >= 'a' && c <= 'z') || (c >= 0xE0 && c <= 0xFE && c != 0xF7) ||
            (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) || (c >= 0x430 && c <= 0x44F))
            return c - 0x20;
        if (c >= 0x450 && c <= 0x45F)
            return c - 0x50;
    } else {
        if ((c >= 'A' && c <= 'Z') || (c >= 0xC0 && c <= 0xDE && c != 0xD7) ||
            (c >= 0x391 && c <= 0x3A9) || (c >= 0x410 && c <= 0x42F))
            return c + 0x20;
        if (c >= 0x400 && c <= 0x40F)
            return c + 0x50;
    }
    return c;
}

static int change_case(feel_eval_state *E, const char *fn, feel_value **args, size_t n, bool upper,
                       feel_value **out) {
    if (!need_string(E, fn, args, n, 0, out))
        return 0;
    const unsigned char *s = (const unsigned char *)args[0]->u.str.s;
    size_t len = args[0]->u.str.len;
    feel_value *v = feel_string_new((const char *)s, len);
    if (!v)
        return BT_ENOMEM;
    unsigned char *d = (unsigned char *)v->u.str.s;
    for (size_t i = 0; i < len;) {
        if (s[i] < 0x80) {
            d[i] = (unsigned char)case_map(s[i], upper);
            i++;
        } else if ((s[i] & 0xE0) == 0xC0 && i + 1 < len) { /* two-byte: same length mapped */
            uint32_t c = ((uint32_t)(s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F);
            uint32_t m = case_map(c, upper);
            if (m >= 0x80 && m < 0x800) {
                d[i] = (unsigned char)(0xC0 | (m >> 6));
                d[i + 1] = (unsigned char)(0x80 | (m & 0x3F));
            }
            i += 2;
        } else {
            i++;
        }
    }
    *out = v;
    return 0;
}

FEEL_BI(feel_bi_upper_case) {
    return change_case(E, "upper case", args, n, true, out);
}

FEEL_BI(feel_bi_lower_case) {
    return change_case(E, "lower case", args, n, false, out);
}

/* Byte offset of the first occurrence of needle in hay, or -1. */
static long find(const feel_value *hay, const feel_value *needle) {
    size_t hn = hay->u.str.len, nn = needle->u.str.len;
    if (nn == 0)
        return 0;
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(hay->u.str.s + i, needle->u.str.s, nn) == 0)
            return (long)i;
    return -1;
}

static bool two_strings(feel_eval_state *E, const char *fn, feel_value **args, size_t n,
                        feel_value **out) {
    return need_string(E, fn, args, n, 0, out) && need_string(E, fn, args, n, 1, out);
}

FEEL_BI(feel_bi_substring_before) {
    if (!two_strings(E, "substring before", args, n, out))
        return 0;
    long at = find(args[0], args[1]);
    return str_out(args[0]->u.str.s, at < 0 ? 0 : (size_t)at, out);
}

FEEL_BI(feel_bi_substring_after) {
    if (!two_strings(E, "substring after", args, n, out))
        return 0;
    long at = find(args[0], args[1]);
    if (at < 0)
        return str_out("", 0, out);
    size_t from = (size_t)at + args[1]->u.str.len;
    return str_out(args[0]->u.str.s + from, args[0]->u.str.len - from, out);
}

FEEL_BI(feel_bi_contains) {
    if (!two_strings(E, "contains", args, n, out))
        return 0;
    *out = feel_bool(find(args[0], args[1]) >= 0);
    return 0;
}

FEEL_BI(feel_bi_starts_with) {
    if (!two_strings(E, "starts with", args, n, out))
        return 0;
    size_t m = args[1]->u.str.len;
    *out = feel_bool(m <= args[0]->u.str.len && memcmp(args[0]->u.str.s, args[1]->u.str.s, m) == 0);
    return 0;
}

FEEL_BI(feel_bi_ends_with) {
    if (!two_strings(E, "ends with", args, n, out))
        return 0;
    size_t m = args[1]->u.str.len, l = args[0]->u.str.len;
    *out = feel_bool(m <= l && memcmp(args[0]->u.str.s + l - m, args[1]->u.str.s, m) == 0);
    return 0;
}

static bool is_space_at(const char *s, size_t n, size_t i, size_t *w) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        *w = 1;
        return true;
    }
    if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
        *w = 2;
        return true;
    }
    return false;
}

FEEL_BI(feel_bi_trim) {
    if (!need_string(E, "trim", args, n, 0, out))
        return 0;
    const char *s = args[0]->u.str.s;
    size_t len = args[0]->u.str.len, a = 0, w;
    while (a < len && is_space_at(s, len, a, &w))
        a += w;
    size_t b = len;
    while (b > a) {
        if (is_space_at(s, len, b - 1, &w) && s[b - 1] != (char)0xA0) {
            b--;
        } else if (b >= 2 && (unsigned char)s[b - 2] == 0xC2 && (unsigned char)s[b - 1] == 0xA0) {
            b -= 2;
        } else {
            break;
        }
    }
    return str_out(s + a, b - a, out);
}

FEEL_BI(feel_bi_is_blank) {
    if (!need_string(E, "is blank", args, n, 0, out))
        return 0;
    const char *s = args[0]->u.str.s;
    size_t len = args[0]->u.str.len, i = 0, w;
    while (i < len && is_space_at(s, len, i, &w))
        i += w;
    *out = feel_bool(i == len);
    return 0;
}

/* ---- regular expressions ------------------------------------------------------ */

/* The compiled pattern with XPath flags, from the cache (regex.c): 0 and a
 * reference in *re; 1 (and a warning) when the pattern or a flag is
 * invalid; BT_ENOMEM. */
static int regex_compile(feel_eval_state *E, const char *fn, const feel_value *pattern,
                         const feel_value *flags, feel_regex **re) {
    uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    if (flags) {
        for (size_t i = 0; i < flags->u.str.len; i++) {
            switch (flags->u.str.s[i]) {
            case 's': opts |= PCRE2_DOTALL; break;
            case 'm': opts |= PCRE2_MULTILINE; break;
            case 'i': opts |= PCRE2_CASELESS; break;
            case 'x': opts |= PCRE2_EXTENDED; break;
            case 'q': opts |= PCRE2_LITERAL; break;
            default: feel_warn(E, "%s(): unknown flag '%c'", fn, flags->u.str.s[i]); return 1;
            }
        }
    }
    char msg[160];
    int rc = feel_regex_get(pattern->u.str.s, pattern->u.str.len, opts, re, msg, sizeof msg);
    if (rc == BT_EINVAL) {
        feel_warn(E, "%s(): %s", fn, msg);
        return 1;
    }
    return rc;
}

/* The optional flags argument at index i: NULL when absent or null. */
static bool flags_arg(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                      const feel_value **flags) {
    *flags = NULL;
    if (i >= n || feel_value_type(args[i]) == FEEL_NULL)
        return true;
    if (!feel_arg_type(E, fn, args, n, i, FEEL_STRING))
        return false;
    *flags = args[i];
    return true;
}

FEEL_BI(feel_bi_matches) {
    const feel_value *flags;
    if (!two_strings(E, "matches", args, n, out))
        return 0;
    if (!flags_arg(E, "matches", args, n, 2, &flags))
        return feel_bi_take(feel_null(), out);
    feel_regex *cached;
    int got = regex_compile(E, "matches", args[1], flags, &cached);
    if (got != 0)
        return got < 0 ? got : feel_bi_take(feel_null(), out);
    const pcre2_code *re = feel_regex_code(cached);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = md ? pcre2_match(re, (PCRE2_SPTR)args[0]->u.str.s, args[0]->u.str.len, 0, 0, md, NULL)
                : PCRE2_ERROR_NOMEMORY;
    pcre2_match_data_free(md);
    feel_regex_release(cached);
    if (rc == PCRE2_ERROR_NOMEMORY)
        return BT_ENOMEM;
    *out = feel_bool(rc >= 0);
    return 0;
}

/* Rewrites an XPath replacement ("\$" literal dollar, "\\" backslash) to
 * PCRE2's ("$$"). */
static int xpath_replacement(const feel_value *r, bt_buf *b) {
    for (size_t i = 0; i < r->u.str.len; i++) {
        char c = r->u.str.s[i];
        if (c == '\\' && i + 1 < r->u.str.len) {
            char d = r->u.str.s[++i];
            if (d == '$')
                bt_buf_puts(b, "$$");
            else
                bt_buf_putc(b, d);
        } else {
            bt_buf_putc(b, c);
        }
    }
    bt_buf_putc(b, 0);
    return b->failed ? BT_ENOMEM : 0;
}

FEEL_BI(feel_bi_replace) {
    const feel_value *flags;
    if (!two_strings(E, "replace", args, n, out) || !need_string(E, "replace", args, n, 2, out))
        return 0;
    if (!flags_arg(E, "replace", args, n, 3, &flags))
        return feel_bi_take(feel_null(), out);
    feel_regex *cached;
    int got = regex_compile(E, "replace", args[1], flags, &cached);
    if (got != 0)
        return got < 0 ? got : feel_bi_take(feel_null(), out);
    const pcre2_code *re = feel_regex_code(cached);
    bt_buf repl = BT_BUF_INIT;
    if (xpath_replacement(args[2], &repl) < 0) {
        feel_regex_release(cached);
        return BT_ENOMEM;
    }
    const feel_value *in = args[0];
    PCRE2_SIZE cap = in->u.str.len * 2 + 64;
    int rc;
    char *buf = NULL;
    for (;;) {
        char *nb = bt_realloc(buf, cap);
        if (!nb) {
            rc = PCRE2_ERROR_NOMEMORY;
            break;
        }
        buf = nb;
        PCRE2_SIZE outlen = cap;
        rc = pcre2_substitute(re, (PCRE2_SPTR)in->u.str.s, in->u.str.len, 0,
                              PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH |
                                  PCRE2_SUBSTITUTE_UNSET_EMPTY,
                              NULL, NULL, (PCRE2_SPTR)repl.data, repl.len - 1, (PCRE2_UCHAR *)buf,
                              &outlen);
        if (rc == PCRE2_ERROR_NOMEMORY && outlen > cap) {
            cap = outlen + 1;
            continue;
        }
        if (rc >= 0)
            cap = outlen;
        break;
    }
    feel_regex_release(cached);
    bt_buf_free(&repl);
    int result;
    if (rc >= 0)
        result = str_out(buf, cap, out);
    else if (rc == PCRE2_ERROR_NOMEMORY && !buf)
        result = BT_ENOMEM;
    else
        result = feel_bi_null(E, "replace", "invalid replacement", out);
    bt_free(buf);
    return result;
}

/* Calls each(match start, match end) for every match of re in s. */
typedef int (*match_fn)(void *ud, const char *s, size_t a, size_t b);

static int for_each_match(const pcre2_code *re, const feel_value *str, match_fn each, void *ud) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return BT_ENOMEM;
    const char *s = str->u.str.s;
    size_t len = str->u.str.len, pos = 0;
    int rc = 0;
    while (pos <= len) {
        int m = pcre2_match(re, (PCRE2_SPTR)s, len, pos, 0, md, NULL);
        if (m < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if ((rc = each(ud, s, ov[0], ov[1])) < 0)
            break;
        pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        while (pos < len && ((unsigned char)s[pos] & 0xC0) == 0x80)
            pos++;
    }
    pcre2_match_data_free(md);
    return rc;
}

typedef struct split_state {
    feel_value *list;
    size_t last;
} split_state;

static int split_each(void *ud, const char *s, size_t a, size_t b) {
    split_state *st = ud;
    if (a == b) /* an empty match does not split */
        return 0;
    int rc = feel_list_push(st->list, feel_string_new(s + st->last, a - st->last));
    st->last = b;
    return rc;
}

FEEL_BI(feel_bi_split) {
    if (!two_strings(E, "split", args, n, out))
        return 0;
    feel_regex *cached;
    int got = regex_compile(E, "split", args[1], NULL, &cached);
    if (got != 0)
        return got < 0 ? got : feel_bi_take(feel_null(), out);
    split_state st = {feel_list_new(), 0};
    int rc =
        st.list ? for_each_match(feel_regex_code(cached), args[0], split_each, &st) : BT_ENOMEM;
    if (rc == 0)
        rc = feel_list_push(
            st.list, feel_string_new(args[0]->u.str.s + st.last, args[0]->u.str.len - st.last));
    feel_regex_release(cached);
    if (rc < 0) {
        feel_value_unref(st.list);
        return rc;
    }
    *out = st.list;
    return 0;
}

static int extract_each(void *ud, const char *s, size_t a, size_t b) {
    return feel_list_push(ud, feel_string_new(s + a, b - a));
}

FEEL_BI(feel_bi_extract) {
    if (!two_strings(E, "extract", args, n, out))
        return 0;
    feel_regex *cached;
    int got = regex_compile(E, "extract", args[1], NULL, &cached);
    if (got != 0)
        return got < 0 ? got : feel_bi_take(feel_null(), out);
    feel_value *list = feel_list_new();
    int rc =
        list ? for_each_match(feel_regex_code(cached), args[0], extract_each, list) : BT_ENOMEM;
    feel_regex_release(cached);
    if (rc < 0) {
        feel_value_unref(list);
        return rc;
    }
    *out = list;
    return 0;
}

/* string join(list, delimiter?, prefix?, suffix?) — nulls are skipped. */
FEEL_BI(feel_bi_string_join) {
    if (!feel_arg_type(E, "string join", args, n, 0, FEEL_LIST))
        return feel_bi_take(feel_null(), out);
    const feel_value *parts[3] = {NULL, NULL, NULL};
    for (size_t i = 1; i < n && i < 4; i++) {
        if (feel_value_type(args[i]) == FEEL_NULL)
            continue;
        if (!feel_arg_type(E, "string join", args, n, i, FEEL_STRING))
            return feel_bi_take(feel_null(), out);
        parts[i - 1] = args[i];
    }
    const feel_value *list = args[0];
    bt_buf b = BT_BUF_INIT;
    if (parts[1])
        bt_buf_append(&b, parts[1]->u.str.s, parts[1]->u.str.len);
    bool first = true;
    for (size_t i = 0; i < list->u.list.n; i++) {
        const feel_value *item = list->u.list.items[i];
        if (feel_value_type(item) == FEEL_NULL)
            continue;
        if (feel_value_type(item) != FEEL_STRING) {
            bt_buf_free(&b);
            return feel_bi_null(E, "string join", "every item must be a string", out);
        }
        if (!first && parts[0])
            bt_buf_append(&b, parts[0]->u.str.s, parts[0]->u.str.len);
        bt_buf_append(&b, item->u.str.s, item->u.str.len);
        first = false;
    }
    if (parts[2])
        bt_buf_append(&b, parts[2]->u.str.s, parts[2]->u.str.len);
    bt_buf_putc(&b, 0);
    if (b.failed) {
        bt_buf_free(&b);
        return BT_ENOMEM;
    }
    int rc = str_out(b.data, b.len - 1, out);
    bt_buf_free(&b);
    return rc;
}
