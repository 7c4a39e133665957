/*
 * lexer.c — FEEL source text → tokens.
 *
 * The whole source is split at once into an array the parser walks with
 * unlimited lookahead (named arguments and multi-word names need a few
 * tokens of it). A name token is one word: letters, digits, '_', '$' and any
 * non-ASCII code point; the parser joins words into names with spaces
 * (`string length`, `first name`), since only it knows where a name may end.
 * Keywords are name tokens with kw set, so they can still take part in
 * multi-word built-in names (`date and time`, `last day of month`).
 *
 * Positions: line and column are 1-based, columns count code points, as the
 * messages of bt_error promise. String literals keep their escapes here; the
 * parser decodes them.
 */
#include <stdio.h>
#include <string.h>

#include "feel/feel_int.h"

typedef struct lexer {
    const char *src;
    size_t len, pos;
    int line, col;
    feel_token *toks;
    size_t n, cap;
    bt_error *err;
} lexer;

static const struct {
    const char *word;
    feel_kw kw;
} keywords[] = {
    {"and", KW_AND},
    {"or", KW_OR},
    {"in", KW_IN},
    {"for", KW_FOR},
    {"return", KW_RETURN},
    {"if", KW_IF},
    {"then", KW_THEN},
    {"else", KW_ELSE},
    {"some", KW_SOME},
    {"every", KW_EVERY},
    {"satisfies", KW_SATISFIES},
    {"between", KW_BETWEEN},
    {"instance", KW_INSTANCE},
    {"of", KW_OF},
    {"function", KW_FUNCTION},
    {"true", KW_TRUE},
    {"false", KW_FALSE},
    {"null", KW_NULL},
};

const char *feel_tok_name(feel_tok k) {
    switch (k) {
    case TK_EOF: return "end of expression";
    case TK_NUMBER: return "a number";
    case TK_STRING: return "a string";
    case TK_AT: return "a temporal literal";
    case TK_NAME: return "a name";
    case TK_BACKTICK: return "a name";
    case TK_LPAREN: return "'('";
    case TK_RPAREN: return "')'";
    case TK_LBRACKET: return "'['";
    case TK_RBRACKET: return "']'";
    case TK_LBRACE: return "'{'";
    case TK_RBRACE: return "'}'";
    case TK_COMMA: return "','";
    case TK_DOT: return "'.'";
    case TK_DOTDOT: return "'..'";
    case TK_COLON: return "':'";
    case TK_QUESTION: return "'?'";
    case TK_PLUS: return "'+'";
    case TK_MINUS: return "'-'";
    case TK_STAR: return "'*'";
    case TK_SLASH: return "'/'";
    case TK_POW: return "'**'";
    case TK_EQ: return "'='";
    case TK_NE: return "'!='";
    case TK_LT: return "'<'";
    case TK_LE: return "'<='";
    case TK_GT: return "'>'";
    case TK_GE: return "'>='";
    }
    return "a token";
}

static bool is_name_start(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static bool is_name_part(unsigned char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Advances over n bytes, keeping line and column (code points) right. */
static void advance(lexer *lx, size_t n) {
    for (size_t i = 0; i < n && lx->pos < lx->len; i++) {
        unsigned char c = (unsigned char)lx->src[lx->pos++];
        if (c == '\n') {
            lx->line++;
            lx->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            lx->col++;
        }
    }
}

static int push(lexer *lx, feel_tok kind, feel_kw kw, size_t off, size_t len, int line, int col) {
    if (lx->n == lx->cap) {
        size_t cap = lx->cap ? lx->cap * 2 : 16;
        feel_token *t = bt_realloc(lx->toks, cap * sizeof *t);
        if (!t)
            return BT_ENOMEM;
        lx->toks = t;
        lx->cap = cap;
    }
    lx->toks[lx->n++] = (feel_token){kind, kw, off, len, line, col};
    return 0;
}

static int fail(lexer *lx, int line, int col, const char *msg) {
    bt_error_set(lx->err, BT_EINVAL, "%s at column %d", msg, col);
    if (lx->err) {
        lx->err->line = line;
        lx->err->column = col;
    }
    return BT_EINVAL;
}

static void skip_space_and_comments(lexer *lx) {
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
            advance(lx, 1);
        } else if (c == '/' && lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == '/') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                advance(lx, 1);
        } else if (c == '/' && lx->pos + 1 < lx->len && lx->src[lx->pos + 1] == '*') {
            advance(lx, 2);
            while (lx->pos < lx->len && !(lx->src[lx->pos] == '*' && lx->pos + 1 < lx->len &&
                                          lx->src[lx->pos + 1] == '/'))
                advance(lx, 1);
            advance(lx, 2);
        } else if ((unsigned char)c == 0xC2 && lx->pos + 1 < lx->len &&
                   (unsigned char)lx->src[lx->pos + 1] == 0xA0) {
            advance(lx, 2); /* no-break space */
        } else {
            break;
        }
    }
}

/* Scans a quoted string starting at the quote; returns its byte length with
 * both quotes, or 0 when it does not end. */
static size_t scan_string(lexer *lx, size_t start) {
    size_t i = start + 1;
    while (i < lx->len) {
        if (lx->src[i] == '\\' && i + 1 < lx->len)
            i += 2;
        else if (lx->src[i] == '"')
            return i + 1 - start;
        else
            i++;
    }
    return 0;
}

static int lex_one(lexer *lx) {
    size_t off = lx->pos;
    int line = lx->line, col = lx->col;
    const char *s = lx->src + off;
    size_t rest = lx->len - off;
    char c = s[0];
    char c1 = rest > 1 ? s[1] : 0;

    if (is_digit(c) || (c == '.' && is_digit(c1))) {
        size_t i = 0;
        while (i < rest && is_digit(s[i]))
            i++;
        if (i + 1 < rest && s[i] == '.' && is_digit(s[i + 1])) {
            i++;
            while (i < rest && is_digit(s[i]))
                i++;
        }
        if (i < rest && (s[i] == 'e' || s[i] == 'E')) {
            size_t j = i + 1;
            if (j < rest && (s[j] == '+' || s[j] == '-'))
                j++;
            if (j < rest && is_digit(s[j])) {
                while (j < rest && is_digit(s[j]))
                    j++;
                i = j;
            }
        }
        advance(lx, i);
        return push(lx, TK_NUMBER, KW_NONE, off, i, line, col);
    }
    if (is_name_start((unsigned char)c)) {
        size_t i = 0;
        while (i < rest && is_name_part((unsigned char)s[i]))
            i++;
        feel_kw kw = KW_NONE;
        for (size_t k = 0; k < BT_ARRAY_LEN(keywords); k++)
            if (strlen(keywords[k].word) == i && memcmp(keywords[k].word, s, i) == 0)
                kw = keywords[k].kw;
        advance(lx, i);
        return push(lx, TK_NAME, kw, off, i, line, col);
    }
    if (c == '"') {
        size_t n = scan_string(lx, off);
        if (!n)
            return fail(lx, line, col, "unterminated string literal");
        advance(lx, n);
        return push(lx, TK_STRING, KW_NONE, off, n, line, col);
    }
    if (c == '@') {
        if (c1 != '"')
            return fail(lx, line, col + 1, "expected a string after '@'");
        size_t n = scan_string(lx, off + 1);
        if (!n)
            return fail(lx, line, col + 1, "unterminated string literal");
        advance(lx, n + 1);
        return push(lx, TK_AT, KW_NONE, off, n + 1, line, col);
    }
    if (c == '`') {
        const char *end = memchr(s + 1, '`', rest - 1);
        if (!end)
            return fail(lx, line, col, "unterminated `name`");
        size_t n = (size_t)(end - s) + 1;
        advance(lx, n);
        return push(lx, TK_BACKTICK, KW_NONE, off, n, line, col);
    }

    feel_tok k;
    size_t n = 1;
    switch (c) {
    case '(': k = TK_LPAREN; break;
    case ')': k = TK_RPAREN; break;
    case '[': k = TK_LBRACKET; break;
    case ']': k = TK_RBRACKET; break;
    case '{': k = TK_LBRACE; break;
    case '}': k = TK_RBRACE; break;
    case ',': k = TK_COMMA; break;
    case ':': k = TK_COLON; break;
    case '?': k = TK_QUESTION; break;
    case '+': k = TK_PLUS; break;
    case '-': k = TK_MINUS; break;
    case '/': k = TK_SLASH; break;
    case '=': k = TK_EQ; break;
    case '.':
        k = c1 == '.' ? TK_DOTDOT : TK_DOT;
        n = c1 == '.' ? 2 : 1;
        break;
    case '*':
        k = c1 == '*' ? TK_POW : TK_STAR;
        n = c1 == '*' ? 2 : 1;
        break;
    case '<':
        k = c1 == '=' ? TK_LE : TK_LT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '>':
        k = c1 == '=' ? TK_GE : TK_GT;
        n = c1 == '=' ? 2 : 1;
        break;
    case '!':
        if (c1 != '=')
            return fail(lx, line, col, "unexpected character '!' (did you mean '!=' or not()?)");
        k = TK_NE;
        n = 2;
        break;
    default: {
        char msg[64];
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            snprintf(msg, sizeof msg, "unexpected character '%c'", c);
        else
            snprintf(msg, sizeof msg, "unexpected character 0x%02x", (unsigned char)c);
        return fail(lx, line, col, msg);
    }
    }
    advance(lx, n);
    return push(lx, k, KW_NONE, off, n, line, col);
}

int feel_lex(const char *src, size_t len, feel_token **toks, size_t *count, bt_error *err) {
    lexer lx = {.src = src, .len = len, .line = 1, .col = 1, .err = err};
    int rc = 0;
    for (;;) {
        skip_space_and_comments(&lx);
        if (lx.pos >= lx.len)
            break;
        if ((rc = lex_one(&lx)) < 0)
            break;
    }
    if (rc == 0)
        rc = push(&lx, TK_EOF, KW_NONE, lx.pos, 0, lx.line, lx.col);
    if (rc < 0) {
        if (rc == BT_ENOMEM)
            bt_error_set(err, BT_ENOMEM, "out of memory");
        bt_free(lx.toks);
        return rc;
    }
    *toks = lx.toks;
    *count = lx.n;
    return 0;
}
