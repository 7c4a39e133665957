/*
 * feel_int.h — the private side of src/feel: value layout, tokens, the
 * syntax tree, the evaluator's state and the built-in function table.
 *
 * Pipeline (one file per stage, as Lua's llex → lparser → lvm):
 *
 *   lexer.c    source → token array (names are single words; the parser
 *              joins words into multi-word names such as `string length`)
 *   parser.c   tokens → feel_node tree in an arena owned by the feel_expr;
 *              built-in calls are resolved here, named arguments are mapped
 *              to positions, literals become constant values
 *   eval.c     tree walk over an immutable tree; all mutable state lives in
 *              a feel_eval_state on the caller's stack, so evaluation is
 *              reentrant and thread-safe for a shared feel_expr
 *   value.c    values, lists, contexts, equality and ordering
 *   json.c     exact JSON in and out
 *   builtins_*.c  the standard library, declared as data in builtins.c
 *
 * Values: a feel_value is one heap block with an atomic reference count.
 * null and the booleans are static (refs == FEEL_REFS_STATIC, never freed).
 * Numbers hold an int64 when the value is integral and fits ("is_int"), a
 * decimal128 otherwise, so integer comparisons never touch decimal code.
 */
#ifndef BATON_FEEL_INT_H
#define BATON_FEEL_INT_H

#include "feel/decimal.h"
#include "feel/feel.h"
#include "feel/temporal.h"

/* The payload of the five temporal types, by value. */
typedef union feel_temporal {
    feel_date date;       /* FEEL_DATE */
    feel_time time;       /* FEEL_TIME */
    feel_datetime dt;     /* FEEL_DATE_TIME */
    feel_dt_duration dtd; /* FEEL_DAYS_TIME_DURATION */
    feel_ym_duration ymd; /* FEEL_YEARS_MONTHS_DURATION */
} feel_temporal;

#define FEEL_REFS_STATIC UINT32_MAX

/* Deepest nesting the parser accepts (brackets, unary minus, sub-expressions). */
#define FEEL_MAX_DEPTH 200
/* Longest chain of operators the parser accepts (1 + 1 + ... + 1). */
#define FEEL_MAX_CHAIN 1000
/* Deepest recursion of the evaluator over nodes: beyond it, BT_ELIMIT. */
#define FEEL_MAX_NEST 2000

typedef struct feel_builtin feel_builtin;
typedef struct feel_node feel_node;

typedef struct feel_ctx_entry {
    char *key; /* NUL-terminated copy */
    size_t len;
    uint32_t hash;
    feel_value *val;
} feel_ctx_entry;

/* Contexts with more entries than this get a hash index. */
#define FEEL_CTX_INDEX_MIN 12

struct feel_value {
    uint32_t refs;
    uint8_t type;   /* feel_type */
    uint8_t is_int; /* numbers: u.i is the value, else u.d */
    union {
        bool b;
        int64_t i;
        feel_dec d;
        struct {
            size_t len;
            char *s; /* points into the same block, NUL-terminated */
        } str;
        struct {
            feel_value **items;
            size_t n, cap;
        } list;
        struct {
            feel_ctx_entry *e;
            size_t n, cap;
            uint32_t *index; /* entry index + 1, 0 = empty; NULL when small */
            uint32_t index_cap;
        } ctx;
        struct {
            feel_value *lo, *hi; /* NULL: unbounded on that side */
            bool lo_closed, hi_closed;
        } range;
        struct {
            const feel_builtin *builtin; /* first row of the name; NULL for lambdas */
            feel_expr *owner;            /* lambdas: the expression holding def */
            const feel_node *def;        /* N_FUNCDEF */
            feel_value *captured;        /* context of the enclosing scope */
        } fn;
        feel_temporal t;
    } u;
};

/* ---- value helpers (value.c) ---- */

feel_value *feel_value_alloc(feel_type t);
feel_value *feel_number_from_dec(feel_dec d);
/* A string of a followed by b (either may be empty). */
feel_value *feel_string_concat(const char *a, size_t an, const char *b, size_t bn);
/* The number as a decimal (either representation). */
feel_dec feel_number_dec(const feel_value *v);
feel_value *feel_range_new(feel_value *lo, bool lo_closed, feel_value *hi, bool hi_closed);
feel_value *feel_temporal_value(feel_type t, const feel_temporal *tv);
/* Orders a and b when they have the same comparable type (numbers, strings,
 * temporal values of one kind, durations of one kind): 0 and *cmp in -1..1;
 * BT_EINVAL when they are not comparable. */
int feel_value_compare(const feel_value *a, const feel_value *b, int *cmp);
/* Appends FEEL's string() form of v (strings unquoted when top is true). */
int feel_value_to_string(const feel_value *v, bt_buf *out, bool top);
/* A context copy with the same entries (new block, refs shared). */
feel_value *feel_context_copy(const feel_value *ctx);
/* Number of code points in UTF-8 text. */
size_t feel_utf8_count(const char *s, size_t n);

/* ---- temporal glue (temporal_value.c) ---- */

/* Parses the text of an @"..." literal into a date, time, date and time or
 * duration value. BT_EINVAL when it is none of them. */
int feel_temporal_from_literal(const char *s, size_t n, feel_value **out);
/* Orders two temporal values of the same type: 0 and *cmp, or BT_EINVAL. */
int feel_temporal_compare(const feel_value *a, const feel_value *b, int *cmp);
/* Appends the ISO 8601 text of a temporal value. */
int feel_temporal_format(const feel_value *v, bt_buf *out);
/* a op b (op one of TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH) when a or b is
 * temporal: 0 and a new value, BT_EINVAL when the types do not combine,
 * BT_EEVAL when the result is undefined, BT_ENOMEM. */
int feel_temporal_arith(int op, const feel_value *a, const feel_value *b, feel_value **out);
/* A property (`d.year`, `t.hour`, `dur.days`...): 0 and a new value, or
 * BT_ENOTFOUND when v has no such property. */
int feel_temporal_property(const feel_value *v, const char *name, size_t len, feel_value **out);

/* abs() of a duration. */
int feel_duration_abs(const feel_value *v, feel_value **out);

/* ---- tokens (lexer.c) ---- */

typedef enum feel_tok {
    TK_EOF,
    TK_NUMBER,
    TK_STRING,   /* "..." with escapes still in the source */
    TK_AT,       /* @"..." */
    TK_NAME,     /* one word; kw tells which keyword it spells */
    TK_BACKTICK, /* `any name` */
    TK_LPAREN,
    TK_RPAREN,
    TK_LBRACKET,
    TK_RBRACKET,
    TK_LBRACE,
    TK_RBRACE,
    TK_COMMA,
    TK_DOT,
    TK_DOTDOT,
    TK_COLON,
    TK_QUESTION,
    TK_PLUS,
    TK_MINUS,
    TK_STAR,
    TK_SLASH,
    TK_POW,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
} feel_tok;

typedef enum feel_kw {
    KW_NONE,
    KW_AND,
    KW_OR,
    KW_IN,
    KW_FOR,
    KW_RETURN,
    KW_IF,
    KW_THEN,
    KW_ELSE,
    KW_SOME,
    KW_EVERY,
    KW_SATISFIES,
    KW_BETWEEN,
    KW_INSTANCE,
    KW_OF,
    KW_FUNCTION,
    KW_TRUE,
    KW_FALSE,
    KW_NULL,
} feel_kw;

typedef struct feel_token {
    feel_tok kind;
    feel_kw kw;
    size_t off, len; /* bytes in the source */
    int line, col;   /* 1-based; col counts code points */
} feel_token;

/* Splits src into tokens (ending with TK_EOF). *toks is bt_malloc'd. */
int feel_lex(const char *src, size_t len, feel_token **toks, size_t *count, bt_error *err);
/* Human name of a token kind for messages ("')'", "a name", ...). */
const char *feel_tok_name(feel_tok k);

/* ---- syntax tree (parser.c) ---- */

typedef enum feel_node_kind {
    N_CONST,    /* val */
    N_NAME,     /* name */
    N_INPUT,    /* ? */
    N_NEG,      /* kids[0] */
    N_ARITH,    /* op in TK_PLUS..TK_POW, kids[0..1] */
    N_CMP,      /* op in TK_EQ..TK_GE, kids[0..1] */
    N_AND,      /* kids[0..1] */
    N_OR,       /* kids[0..1] */
    N_BETWEEN,  /* kids[0] between kids[1] and kids[2] */
    N_IN,       /* kids[0] in kids[1] (a test node) */
    N_INSTANCE, /* kids[0] instance of type (name; n = type args, kids[1..]) */
    N_IF,       /* kids[0..2] */
    N_FOR,      /* names[i] in kids[i], kids[n] = body */
    N_SOME,     /* names[i] in kids[i], kids[n] = condition */
    N_EVERY,
    N_LIST,    /* kids[0..n) */
    N_CONTEXT, /* names[i]: kids[i] */
    N_RANGE,   /* kids[0] .. kids[1], flags FEEL_RANGE_* */
    N_PATH,    /* kids[0].name */
    N_FILTER,  /* kids[0][kids[1]] */
    N_CALL,    /* builtin or kids[0] callee; args kids[1..n]; names for named args */
    N_FUNCDEF, /* names = params, kids[0] = body */
    N_TYPE,    /* a type for instance of: name, kids = type arguments */
    /* unary tests: evaluated against an input value */
    N_UT_CMP,  /* op in TK_EQ..TK_GE, kids[0] endpoint */
    N_UT_EXPR, /* kids[0]: list → membership, range → inclusion, boolean → itself, else = */
    N_UT_OR,   /* any of kids[0..n) */
    N_UT_NOT,  /* none of kids[0..n) */
    N_UT_ANY,  /* - */
} feel_node_kind;

#define FEEL_RANGE_LO_CLOSED 1
#define FEEL_RANGE_HI_CLOSED 2
#define FEEL_NODE_USES_INPUT 4

struct feel_node {
    uint8_t kind;
    uint8_t op;
    uint8_t flags;
    uint16_t height; /* operator chains: 1 + the taller operand (bounded at compile time) */
    int col;
    uint32_t n; /* kids or names, as the kind says */
    feel_node **kids;
    const char *name; /* NUL-terminated, in the arena */
    size_t name_len;
    const char **names; /* n names */
    size_t *name_lens;
    feel_value *val;             /* N_CONST */
    const feel_builtin *builtin; /* N_CALL resolved at compile time */
    /* N_UT_EXPR: FEEL_NODE_USES_INPUT when the test mentions '?' */
};

typedef struct feel_arena_block feel_arena_block;

struct feel_expr {
    uint32_t refs; /* lambdas returned from feel_eval keep their expression alive */
    feel_node *root;
    char *source;
    size_t source_len;
    feel_arena_block *arena;
    feel_value **consts; /* constants to release */
    size_t nconsts, capconsts;
    bool unary_tests;
};

void feel_expr_unref(feel_expr *e);

/* ---- evaluation (eval.c) ---- */

typedef struct feel_scope feel_scope;
struct feel_scope {
    const feel_scope *up;
    const char *name; /* one binding ... */
    size_t len;
    const feel_value *val;
    const feel_value *ctx; /* ... or every entry of a context */
};

typedef struct feel_eval_state {
    const feel_env *env;
    const feel_expr *expr; /* the expression whose nodes are being evaluated */
    bt_error *warning;
    bool warned;
    int depth;    /* calls of user-defined functions */
    int nest;     /* nodes being evaluated */
    int quiet;    /* > 0 inside `is defined(...)`: warnings are not recorded */
    bool missing; /* a variable or context entry was not found */
} feel_eval_state;

/* Records the first runtime problem; later ones are dropped. */
void feel_warn(feel_eval_state *E, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Calls a function value with positional arguments (borrowed). */
int feel_call_value(feel_eval_state *E, const feel_value *fn, feel_value **args, size_t n,
                    feel_value **out);
/* Evaluates unary test node t against input: a boolean or null. */
int feel_eval_test(feel_eval_state *E, const feel_node *t, const feel_value *input,
                   const feel_scope *s, feel_value **out);

/* ---- regular expressions (regex.c) ---- */

/* A compiled pattern from the shared cache (opaque, reference counted). */
typedef struct feel_regex feel_regex;
struct pcre2_real_code_8;

/* The compiled form of pattern (len bytes) with PCRE2 options opts, from the
 * cache or compiled now: 0 and a reference in *out (release it with
 * feel_regex_release); BT_EINVAL with a message in msg when the pattern is
 * invalid; BT_ENOMEM. Thread-safe. */
int feel_regex_get(const char *pattern, size_t len, uint32_t opts, feel_regex **out, char *msg,
                   size_t msgsize);
/* The pcre2_code (8-bit code units) of r: immutable, usable by several
 * threads at once, each with its own match data. */
const struct pcre2_real_code_8 *feel_regex_code(const feel_regex *r);
/* Returns the reference of feel_regex_get. NULL allowed. Thread-safe. */
void feel_regex_release(feel_regex *r);
/* Empties the cache (entries in use are freed by their last user). For
 * tests and leak checkers; thread-safe. */
void feel_regex_cache_clear(void);

/* ---- built-ins (builtins.c and builtins_*.c) ---- */

/* A built-in gets its arguments borrowed (missing optional ones absent:
 * n tells how many), returns 0 with a new reference in *out (null plus a
 * warning for invalid arguments) or a negative code for hard failures. */
typedef int (*feel_builtin_fn)(feel_eval_state *E, feel_value **args, size_t n, feel_value **out);

struct feel_builtin {
    const char *name;
    const char *params;     /* parameter names, separated by ',' */
    int min_args, max_args; /* max_args -1: any number */
    feel_builtin_fn fn;
    /* Arguments that take a list (bit i for argument i, FEEL_LIST_ARGS_ALL
     * for every one): another non-null value is passed as a singleton list,
     * DMN's "to singleton list" conversion (count(5) = 1). */
    unsigned list_args;
    /* Arguments of any type (bit i for argument i), lists included. Every
     * other argument that is neither in list_args nor here expects a
     * non-list value, and a singleton list passed there is unwrapped:
     * DMN's "from singleton list" conversion (upper case(["a"]) = "A").
     * Varargs rows (max_args -1) take their items as they come. */
    unsigned any_args;
};

#define FEEL_LIST_ARGS_ALL (~0u)

/* First row named name (len bytes), or NULL. */
const feel_builtin *feel_builtin_find(const char *name, size_t len);
/* True when some built-in's name starts with these words followed by ' '. */
bool feel_builtin_is_prefix(const char *name, size_t len);
/* The row among the overloads of first that accepts n positional arguments. */
const feel_builtin *feel_builtin_pick(const feel_builtin *first, size_t n);
/* The overload of first whose parameters include every name; maps each name
 * to its position in pos. NULL when none does. */
const feel_builtin *feel_builtin_pick_named(const feel_builtin *first, const char **names,
                                            const size_t *lens, size_t n, int *pos);

/* Argument helpers for built-ins: each returns false (and warns) when the
 * argument has the wrong type. */
bool feel_arg_type(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                   feel_type t);
/* The argument as an int (integral number in int range). */
bool feel_arg_int(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                  int64_t *out);

/* Families; each defines a table fragment concatenated by builtins.c. */
extern const feel_builtin feel_builtins_string[];
extern const feel_builtin feel_builtins_list[];
extern const feel_builtin feel_builtins_number[];
extern const feel_builtin feel_builtins_misc[];
extern const feel_builtin feel_builtins_range[];
extern const feel_builtin feel_builtins_temporal[];

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0), or 0
 * when the bytes there are not valid UTF-8 (json.c). */
size_t feel_utf8_seq(const unsigned char *s, size_t n);

#endif
