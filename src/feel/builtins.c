/*
 * builtins.c — the table of FEEL's built-in functions (dispatch as data).
 *
 * One row per function signature: its FEEL name, its parameter names (for
 * named invocation, `substring(string: "abc", start position: 2)`), how
 * many arguments it takes and the C function. Overloads of one name are
 * consecutive rows (date(from) / date(year, month, day)); the parser picks
 * the row at compile time from the number or the names of the arguments.
 * max_args -1 marks varargs functions (min(1, 2, 3) as well as min([1, 2, 3])).
 * The last two columns drive DMN's implicit conversions of arguments
 * (§10.3.2.9.4): list_args are wrapped into a singleton list when they are
 * not lists, any_args are passed as they are, and every other argument is
 * unwrapped when it is a singleton list (see feel_builtin in feel_int.h).
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
    {"not", "negand", 1, 1, feel_bi_not, 0, 0},
    {"string", "from", 1, 1, feel_bi_string, 0, 1},
    {"number", "from,grouping separator,decimal separator", 1, 3, feel_bi_number, 0, 0},
    {"is defined", "value", 1, 1, feel_bi_is_defined, 0, 1},
    {"get or else", "value,default", 2, 2, feel_bi_get_or_else, 0, 3},
    {"is", "value1,value2", 2, 2, feel_bi_is, 0, 3},
    /* contexts */
    {"get value", "context,key", 2, 2, feel_bi_get_value, 0, 2},
    {"get value", "m,key", 2, 2, feel_bi_get_value, 0, 2},
    {"get entries", "context", 1, 1, feel_bi_get_entries, 0, 0},
    {"get entries", "m", 1, 1, feel_bi_get_entries, 0, 0},
    {"context put", "context,key,value", 3, 3, feel_bi_context_put, 0, 6},
    {"context put", "context,keys,value", 3, 3, feel_bi_context_put, 0, 6},
    {"context merge", "contexts", 1, -1, feel_bi_context_merge, 0, 0},
    {"context", "entries", 1, 1, feel_bi_context, 1, 0},
    /* strings */
    {"substring", "string,start position,length", 2, 3, feel_bi_substring, 0, 0},
    {"string length", "string", 1, 1, feel_bi_string_length, 0, 0},
    {"upper case", "string", 1, 1, feel_bi_upper_case, 0, 0},
    {"lower case", "string", 1, 1, feel_bi_lower_case, 0, 0},
    {"substring before", "string,match", 2, 2, feel_bi_substring_before, 0, 0},
    {"substring after", "string,match", 2, 2, feel_bi_substring_after, 0, 0},
    {"replace", "input,pattern,replacement,flags", 3, 4, feel_bi_replace, 0, 0},
    {"contains", "string,match", 2, 2, feel_bi_contains, 0, 0},
    {"starts with", "string,match", 2, 2, feel_bi_starts_with, 0, 0},
    {"ends with", "string,match", 2, 2, feel_bi_ends_with, 0, 0},
    {"matches", "input,pattern,flags", 2, 3, feel_bi_matches, 0, 0},
    {"split", "string,delimiter", 2, 2, feel_bi_split, 0, 0},
    {"extract", "string,pattern", 2, 2, feel_bi_extract, 0, 0},
    {"trim", "string", 1, 1, feel_bi_trim, 0, 0},
    {"is blank", "string", 1, 1, feel_bi_is_blank, 0, 0},
    {"string join", "list,delimiter,prefix,suffix", 1, 4, feel_bi_string_join, 1, 0},
    /* lists */
    {"list contains", "list,element", 2, 2, feel_bi_list_contains, 1, 2},
    {"count", "list", 1, 1, feel_bi_count, 1, 0},
    {"min", "list", 1, -1, feel_bi_min, 0, 0},
    {"max", "list", 1, -1, feel_bi_max, 0, 0},
    {"sum", "list", 1, -1, feel_bi_sum, 0, 0},
    {"product", "list", 1, -1, feel_bi_product, 0, 0},
    {"mean", "list", 1, -1, feel_bi_mean, 0, 0},
    {"median", "list", 1, -1, feel_bi_median, 0, 0},
    {"stddev", "list", 1, -1, feel_bi_stddev, 0, 0},
    {"mode", "list", 1, -1, feel_bi_mode, 0, 0},
    {"all", "list", 1, -1, feel_bi_all, 0, 0},
    {"any", "list", 1, -1, feel_bi_any, 0, 0},
    {"sublist", "list,start position,length", 2, 3, feel_bi_sublist, 1, 0},
    {"append", "list,items", 1, -1, feel_bi_append, 1, 0},
    {"concatenate", "lists", 0, -1, feel_bi_concatenate, FEEL_LIST_ARGS_ALL, 0},
    {"insert before", "list,position,newItem", 3, 3, feel_bi_insert_before, 1, 4},
    {"remove", "list,position", 2, 2, feel_bi_remove, 1, 0},
    {"reverse", "list", 1, 1, feel_bi_reverse, 1, 0},
    {"index of", "list,match", 2, 2, feel_bi_index_of, 1, 2},
    {"union", "lists", 0, -1, feel_bi_union, FEEL_LIST_ARGS_ALL, 0},
    {"distinct values", "list", 1, 1, feel_bi_distinct_values, 1, 0},
    {"duplicate values", "list", 1, 1, feel_bi_duplicate_values, 1, 0},
    {"flatten", "list", 1, 1, feel_bi_flatten, 1, 0},
    {"sort", "list,precedes", 1, 2, feel_bi_sort, 1, 0},
    {"partition", "list,size", 2, 2, feel_bi_partition, 1, 0},
    {"is empty", "list", 1, 1, feel_bi_is_empty, 1, 0},
    /* numbers */
    {"decimal", "n,scale", 2, 2, feel_bi_decimal, 0, 0},
    {"floor", "n,scale", 1, 2, feel_bi_floor, 0, 0},
    {"ceiling", "n,scale", 1, 2, feel_bi_ceiling, 0, 0},
    {"round up", "n,scale", 1, 2, feel_bi_round_up, 0, 0},
    {"round down", "n,scale", 1, 2, feel_bi_round_down, 0, 0},
    {"round half up", "n,scale", 1, 2, feel_bi_round_half_up, 0, 0},
    {"round half down", "n,scale", 1, 2, feel_bi_round_half_down, 0, 0},
    {"abs", "n", 1, 1, feel_bi_abs, 0, 0},
    {"modulo", "dividend,divisor", 2, 2, feel_bi_modulo, 0, 0},
    {"sqrt", "number", 1, 1, feel_bi_sqrt, 0, 0},
    {"log", "number", 1, 1, feel_bi_log, 0, 0},
    {"exp", "number", 1, 1, feel_bi_exp, 0, 0},
    {"odd", "number", 1, 1, feel_bi_odd, 0, 0},
    {"even", "number", 1, 1, feel_bi_even, 0, 0},
    /* ranges: points and ranges in any combination */
    {"before", "point1,point2", 2, 2, feel_bi_before, 0, 0},
    {"before", "point,range", 2, 2, feel_bi_before, 0, 0},
    {"before", "range,point", 2, 2, feel_bi_before, 0, 0},
    {"before", "range1,range2", 2, 2, feel_bi_before, 0, 0},
    {"after", "point1,point2", 2, 2, feel_bi_after, 0, 0},
    {"after", "point,range", 2, 2, feel_bi_after, 0, 0},
    {"after", "range,point", 2, 2, feel_bi_after, 0, 0},
    {"after", "range1,range2", 2, 2, feel_bi_after, 0, 0},
    {"meets", "range1,range2", 2, 2, feel_bi_meets, 0, 0},
    {"met by", "range1,range2", 2, 2, feel_bi_met_by, 0, 0},
    {"overlaps", "range1,range2", 2, 2, feel_bi_overlaps, 0, 0},
    {"overlaps before", "range1,range2", 2, 2, feel_bi_overlaps_before, 0, 0},
    {"overlaps after", "range1,range2", 2, 2, feel_bi_overlaps_after, 0, 0},
    {"finishes", "point,range", 2, 2, feel_bi_finishes, 0, 0},
    {"finishes", "range1,range2", 2, 2, feel_bi_finishes, 0, 0},
    {"finished by", "range,point", 2, 2, feel_bi_finished_by, 0, 0},
    {"finished by", "range1,range2", 2, 2, feel_bi_finished_by, 0, 0},
    {"includes", "range,point", 2, 2, feel_bi_includes, 0, 0},
    {"includes", "range1,range2", 2, 2, feel_bi_includes, 0, 0},
    {"during", "point,range", 2, 2, feel_bi_during, 0, 0},
    {"during", "range1,range2", 2, 2, feel_bi_during, 0, 0},
    {"starts", "point,range", 2, 2, feel_bi_starts, 0, 0},
    {"starts", "range1,range2", 2, 2, feel_bi_starts, 0, 0},
    {"started by", "range,point", 2, 2, feel_bi_started_by, 0, 0},
    {"started by", "range1,range2", 2, 2, feel_bi_started_by, 0, 0},
    {"coincides", "point1,point2", 2, 2, feel_bi_coincides, 0, 0},
    {"coincides", "range1,range2", 2, 2, feel_bi_coincides, 0, 0},
    /* temporal */
    {"date", "from", 1, 1, feel_bi_date, 0, 0},
    {"date", "year,month,day", 3, 3, feel_bi_date_ymd, 0, 0},
    {"time", "from", 1, 1, feel_bi_time, 0, 0},
    {"time", "hour,minute,second,offset", 3, 4, feel_bi_time_hms, 0, 0},
    {"date and time", "from", 1, 1, feel_bi_date_and_time, 0, 0},
    {"date and time", "date,time", 2, 2, feel_bi_date_and_time2, 0, 0},
    {"date and time", "date,timezone", 2, 2, feel_bi_date_and_time2, 0, 0},
    {"duration", "from", 1, 1, feel_bi_duration, 0, 0},
    {"years and months duration", "from,to", 2, 2, feel_bi_years_and_months_duration, 0, 0},
    {"now", "", 0, 0, feel_bi_now, 0, 0},
    {"today", "", 0, 0, feel_bi_today, 0, 0},
    {"day of week", "date", 1, 1, feel_bi_day_of_week, 0, 0},
    {"day of year", "date", 1, 1, feel_bi_day_of_year, 0, 0},
    {"week of year", "date", 1, 1, feel_bi_week_of_year, 0, 0},
    {"month of year", "date", 1, 1, feel_bi_month_of_year, 0, 0},
    {"last day of month", "date", 1, 1, feel_bi_last_day_of_month, 0, 0},
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
