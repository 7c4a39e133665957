/*
 * builtins.c — the table of FEEL's built-in functions (dispatch as data).
 *
 * One row per function signature: its FEEL name, its parameter names (for
 * named invocation, `substring(string: "abc", start position: 2)`), how
 * many arguments it takes and the C function. Overloads of one name are
 * consecutive rows (date(from) / date(year, month, day)); the parser picks
 * the row at compile time from the number or the names of the arguments.
 * max_args -1 marks varargs functions (min(1, 2, 3) as well as min([1, 2, 3])).
 *
 * The families live in builtins_*.c and temporal_value.c; the standard
 * library of DMN 1.3+ plus Camunda's extensions (string join with prefix
 * and suffix, context put with a key path, partition, duplicate values,
 * is blank, get or else, ...). Functions that are not deterministic
 * (uuid, random number) are deliberately absent: an evaluation depends
 * only on its expression, variables and feel_env.now_ms.
 */
#include <string.h>

#include "feel/builtins.h"

static const feel_builtin table[] = {
    /* conversion and logic */
    {"not", "negand", 1, 1, feel_bi_not},
    {"string", "from", 1, 1, feel_bi_string},
    {"number", "from,grouping separator,decimal separator", 1, 3, feel_bi_number},
    {"is defined", "value", 1, 1, feel_bi_is_defined},
    {"get or else", "value,default", 2, 2, feel_bi_get_or_else},
    {"is", "value1,value2", 2, 2, feel_bi_is},
    /* contexts */
    {"get value", "context,key", 2, 2, feel_bi_get_value},
    {"get value", "m,key", 2, 2, feel_bi_get_value},
    {"get entries", "context", 1, 1, feel_bi_get_entries},
    {"get entries", "m", 1, 1, feel_bi_get_entries},
    {"context put", "context,key,value", 3, 3, feel_bi_context_put},
    {"context put", "context,keys,value", 3, 3, feel_bi_context_put},
    {"context merge", "contexts", 1, -1, feel_bi_context_merge},
    {"context", "entries", 1, 1, feel_bi_context},
    /* strings */
    {"substring", "string,start position,length", 2, 3, feel_bi_substring},
    {"string length", "string", 1, 1, feel_bi_string_length},
    {"upper case", "string", 1, 1, feel_bi_upper_case},
    {"lower case", "string", 1, 1, feel_bi_lower_case},
    {"substring before", "string,match", 2, 2, feel_bi_substring_before},
    {"substring after", "string,match", 2, 2, feel_bi_substring_after},
    {"replace", "input,pattern,replacement,flags", 3, 4, feel_bi_replace},
    {"contains", "string,match", 2, 2, feel_bi_contains},
    {"starts with", "string,match", 2, 2, feel_bi_starts_with},
    {"ends with", "string,match", 2, 2, feel_bi_ends_with},
    {"matches", "input,pattern,flags", 2, 3, feel_bi_matches},
    {"split", "string,delimiter", 2, 2, feel_bi_split},
    {"extract", "string,pattern", 2, 2, feel_bi_extract},
    {"trim", "string", 1, 1, feel_bi_trim},
    {"is blank", "string", 1, 1, feel_bi_is_blank},
    {"string join", "list,delimiter,prefix,suffix", 1, 4, feel_bi_string_join},
    /* lists */
    {"list contains", "list,element", 2, 2, feel_bi_list_contains},
    {"count", "list", 1, 1, feel_bi_count},
    {"min", "list", 1, -1, feel_bi_min},
    {"max", "list", 1, -1, feel_bi_max},
    {"sum", "list", 1, -1, feel_bi_sum},
    {"product", "list", 1, -1, feel_bi_product},
    {"mean", "list", 1, -1, feel_bi_mean},
    {"median", "list", 1, -1, feel_bi_median},
    {"stddev", "list", 1, -1, feel_bi_stddev},
    {"mode", "list", 1, -1, feel_bi_mode},
    {"all", "list", 1, -1, feel_bi_all},
    {"any", "list", 1, -1, feel_bi_any},
    {"sublist", "list,start position,length", 2, 3, feel_bi_sublist},
    {"append", "list,item", 1, -1, feel_bi_append},
    {"concatenate", "list", 0, -1, feel_bi_concatenate},
    {"insert before", "list,position,newItem", 3, 3, feel_bi_insert_before},
    {"remove", "list,position", 2, 2, feel_bi_remove},
    {"reverse", "list", 1, 1, feel_bi_reverse},
    {"index of", "list,match", 2, 2, feel_bi_index_of},
    {"union", "list", 0, -1, feel_bi_union},
    {"distinct values", "list", 1, 1, feel_bi_distinct_values},
    {"duplicate values", "list", 1, 1, feel_bi_duplicate_values},
    {"flatten", "list", 1, 1, feel_bi_flatten},
    {"sort", "list,precedes", 1, 2, feel_bi_sort},
    {"partition", "list,size", 2, 2, feel_bi_partition},
    {"is empty", "list", 1, 1, feel_bi_is_empty},
    /* numbers */
    {"decimal", "n,scale", 2, 2, feel_bi_decimal},
    {"floor", "n,scale", 1, 2, feel_bi_floor},
    {"ceiling", "n,scale", 1, 2, feel_bi_ceiling},
    {"round up", "n,scale", 1, 2, feel_bi_round_up},
    {"round down", "n,scale", 1, 2, feel_bi_round_down},
    {"round half up", "n,scale", 1, 2, feel_bi_round_half_up},
    {"round half down", "n,scale", 1, 2, feel_bi_round_half_down},
    {"abs", "n", 1, 1, feel_bi_abs},
    {"modulo", "dividend,divisor", 2, 2, feel_bi_modulo},
    {"sqrt", "number", 1, 1, feel_bi_sqrt},
    {"log", "number", 1, 1, feel_bi_log},
    {"exp", "number", 1, 1, feel_bi_exp},
    {"odd", "number", 1, 1, feel_bi_odd},
    {"even", "number", 1, 1, feel_bi_even},
    /* ranges: points and ranges in any combination */
    {"before", "point1,point2", 2, 2, feel_bi_before},
    {"before", "point,range", 2, 2, feel_bi_before},
    {"before", "range,point", 2, 2, feel_bi_before},
    {"before", "range1,range2", 2, 2, feel_bi_before},
    {"after", "point1,point2", 2, 2, feel_bi_after},
    {"after", "point,range", 2, 2, feel_bi_after},
    {"after", "range,point", 2, 2, feel_bi_after},
    {"after", "range1,range2", 2, 2, feel_bi_after},
    {"meets", "range1,range2", 2, 2, feel_bi_meets},
    {"met by", "range1,range2", 2, 2, feel_bi_met_by},
    {"overlaps", "range1,range2", 2, 2, feel_bi_overlaps},
    {"overlaps before", "range1,range2", 2, 2, feel_bi_overlaps_before},
    {"overlaps after", "range1,range2", 2, 2, feel_bi_overlaps_after},
    {"finishes", "point,range", 2, 2, feel_bi_finishes},
    {"finishes", "range1,range2", 2, 2, feel_bi_finishes},
    {"finished by", "range,point", 2, 2, feel_bi_finished_by},
    {"finished by", "range1,range2", 2, 2, feel_bi_finished_by},
    {"includes", "range,point", 2, 2, feel_bi_includes},
    {"includes", "range1,range2", 2, 2, feel_bi_includes},
    {"during", "point,range", 2, 2, feel_bi_during},
    {"during", "range1,range2", 2, 2, feel_bi_during},
    {"starts", "point,range", 2, 2, feel_bi_starts},
    {"starts", "range1,range2", 2, 2, feel_bi_starts},
    {"started by", "range,point", 2, 2, feel_bi_started_by},
    {"started by", "range1,range2", 2, 2, feel_bi_started_by},
    {"coincides", "point1,point2", 2, 2, feel_bi_coincides},
    {"coincides", "range1,range2", 2, 2, feel_bi_coincides},
    /* temporal */
    {"date", "from", 1, 1, feel_bi_date},
    {"date", "year,month,day", 3, 3, feel_bi_date_ymd},
    {"time", "from", 1, 1, feel_bi_time},
    {"time", "hour,minute,second,offset", 3, 4, feel_bi_time_hms},
    {"date and time", "from", 1, 1, feel_bi_date_and_time},
    {"date and time", "date,time", 2, 2, feel_bi_date_and_time2},
    {"duration", "from", 1, 1, feel_bi_duration},
    {"years and months duration", "from,to", 2, 2, feel_bi_years_and_months_duration},
    {"now", "", 0, 0, feel_bi_now},
    {"today", "", 0, 0, feel_bi_today},
    {"day of week", "date", 1, 1, feel_bi_day_of_week},
    {"day of year", "date", 1, 1, feel_bi_day_of_year},
    {"week of year", "date", 1, 1, feel_bi_week_of_year},
    {"month of year", "date", 1, 1, feel_bi_month_of_year},
    {"last day of month", "date", 1, 1, feel_bi_last_day_of_month},
};

static bool row_named(const feel_builtin *b, const char *name, size_t len) {
    return strlen(b->name) == len && memcmp(b->name, name, len) == 0;
}

const feel_builtin *feel_builtin_find(const char *name, size_t len) {
    for (size_t i = 0; i < BT_ARRAY_LEN(table); i++)
        if (row_named(&table[i], name, len))
            return &table[i];
    return NULL;
}

bool feel_builtin_is_prefix(const char *name, size_t len) {
    for (size_t i = 0; i < BT_ARRAY_LEN(table); i++)
        if (strlen(table[i].name) > len && memcmp(table[i].name, name, len) == 0 &&
            table[i].name[len] == ' ')
            return true;
    return false;
}

/* Rows of the same name after first (first included), as [first, end). */
static const feel_builtin *overloads_end(const feel_builtin *first) {
    const feel_builtin *end = first;
    const feel_builtin *last = table + BT_ARRAY_LEN(table);
    while (end < last && strcmp(end->name, first->name) == 0)
        end++;
    return end;
}

const feel_builtin *feel_builtin_pick(const feel_builtin *first, size_t n) {
    for (const feel_builtin *b = first, *end = overloads_end(first); b < end; b++)
        if ((int)n >= b->min_args && (b->max_args < 0 || (int)n <= b->max_args))
            return b;
    return NULL;
}

/* Position of parameter name in the comma list params, or -1. */
static int param_pos(const char *params, const char *name, size_t len) {
    int pos = 0;
    const char *p = params;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && memcmp(p, name, len) == 0)
            return pos;
        if (!end)
            break;
        p = end + 1;
        pos++;
    }
    return -1;
}

const feel_builtin *feel_builtin_pick_named(const feel_builtin *first, const char **names,
                                            const size_t *lens, size_t n, int *pos) {
    for (const feel_builtin *b = first, *end = overloads_end(first); b < end; b++) {
        bool all = true;
        for (size_t i = 0; i < n && all; i++) {
            pos[i] = param_pos(b->params, names[i], lens[i]);
            all = pos[i] >= 0;
        }
        if (all)
            return b;
    }
    return NULL;
}

/* ---- helpers for the families ------------------------------------------------- */

int feel_bi_null(feel_eval_state *E, const char *fn, const char *why, feel_value **out) {
    feel_warn(E, "%s(): %s", fn, why);
    *out = feel_null();
    return 0;
}

int feel_bi_take(feel_value *v, feel_value **out) {
    if (!v)
        return BT_ENOMEM;
    *out = v;
    return 0;
}

const feel_value *feel_bi_arg(feel_value **args, size_t n, size_t i, feel_type t) {
    if (i >= n || feel_value_type(args[i]) != t)
        return NULL;
    return args[i];
}

bool feel_arg_type(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                   feel_type t) {
    if (feel_bi_arg(args, n, i, t))
        return true;
    feel_warn(E, "%s(): argument %zu must be a %s, not %s", fn, i + 1, feel_type_name(t),
              feel_type_name(feel_value_type(i < n ? args[i] : NULL)));
    return false;
}

bool feel_arg_int(feel_eval_state *E, const char *fn, feel_value **args, size_t n, size_t i,
                  int64_t *out) {
    if (!feel_arg_type(E, fn, args, n, i, FEEL_NUMBER))
        return false;
    if (feel_number_to_int64(args[i], out) < 0 || *out < -1000000000 || *out > 1000000000) {
        feel_warn(E, "%s(): argument %zu must be an integer", fn, i + 1);
        return false;
    }
    return true;
}

int feel_bi_varargs(feel_value **args, size_t n, feel_value **list) {
    if (n == 1 && feel_value_type(args[0]) == FEEL_LIST) {
        *list = feel_value_ref(args[0]);
        return 0;
    }
    feel_value *l = feel_list_new();
    if (!l)
        return BT_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (feel_list_push(l, feel_value_ref(args[i])) < 0) {
            feel_value_unref(l);
            return BT_ENOMEM;
        }
    *list = l;
    return 0;
}
