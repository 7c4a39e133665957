/*
 * builtins.h — private: the C functions behind FEEL's built-in functions,
 * one family per file (builtins_string.c, builtins_list.c, ...), all listed
 * in the single table of builtins.c. Each follows feel_builtin_fn: arguments
 * borrowed, a new reference in *out, null plus a warning for bad arguments,
 * a negative code only for hard failures.
 */
#ifndef BATON_FEEL_BUILTINS_H
#define BATON_FEEL_BUILTINS_H

#include "feel/feel_int.h"

#define TRY_BI(x)                                                                                  \
    do {                                                                                           \
        int rc_ = (x);                                                                             \
        if (rc_ < 0)                                                                               \
            return rc_;                                                                            \
    } while (0)

#define FEEL_BI(name) int name(feel_eval_state *E, feel_value **args, size_t n, feel_value **out)

/* Shared helpers for the families (builtins.c). */
int feel_bi_null(feel_eval_state *E, const char *fn, const char *why, feel_value **out);
int feel_bi_take(feel_value *v, feel_value **out);
/* args[i] when present and of type t (no warning), else NULL. */
const feel_value *feel_bi_arg(feel_value **args, size_t n, size_t i, feel_type t);
/* The items of a varargs call: the single list argument, or the arguments
 * themselves. Fills *list with a new reference. */
int feel_bi_varargs(feel_value **args, size_t n, feel_value **list);

/* misc / conversion / context (builtins_misc.c) */
FEEL_BI(feel_bi_not);
FEEL_BI(feel_bi_string);
FEEL_BI(feel_bi_number);
FEEL_BI(feel_bi_is_defined);
FEEL_BI(feel_bi_get_or_else);
FEEL_BI(feel_bi_is);
FEEL_BI(feel_bi_get_value);
FEEL_BI(feel_bi_get_entries);
FEEL_BI(feel_bi_context_put);
FEEL_BI(feel_bi_context_merge);
FEEL_BI(feel_bi_context);

/* strings (builtins_string.c) */
FEEL_BI(feel_bi_substring);
FEEL_BI(feel_bi_string_length);
FEEL_BI(feel_bi_upper_case);
FEEL_BI(feel_bi_lower_case);
FEEL_BI(feel_bi_substring_before);
FEEL_BI(feel_bi_substring_after);
FEEL_BI(feel_bi_replace);
FEEL_BI(feel_bi_contains);
FEEL_BI(feel_bi_starts_with);
FEEL_BI(feel_bi_ends_with);
FEEL_BI(feel_bi_matches);
FEEL_BI(feel_bi_split);
FEEL_BI(feel_bi_extract);
FEEL_BI(feel_bi_trim);
FEEL_BI(feel_bi_string_join);
FEEL_BI(feel_bi_is_blank);

/* lists (builtins_list.c) */
FEEL_BI(feel_bi_list_contains);
FEEL_BI(feel_bi_count);
FEEL_BI(feel_bi_min);
FEEL_BI(feel_bi_max);
FEEL_BI(feel_bi_sum);
FEEL_BI(feel_bi_product);
FEEL_BI(feel_bi_mean);
FEEL_BI(feel_bi_median);
FEEL_BI(feel_bi_stddev);
FEEL_BI(feel_bi_mode);
FEEL_BI(feel_bi_all);
FEEL_BI(feel_bi_any);
FEEL_BI(feel_bi_sublist);
FEEL_BI(feel_bi_append);
FEEL_BI(feel_bi_concatenate);
FEEL_BI(feel_bi_insert_before);
FEEL_BI(feel_bi_remove);
FEEL_BI(feel_bi_reverse);
FEEL_BI(feel_bi_index_of);
FEEL_BI(feel_bi_union);
FEEL_BI(feel_bi_distinct_values);
FEEL_BI(feel_bi_duplicate_values);
FEEL_BI(feel_bi_flatten);
FEEL_BI(feel_bi_sort);
FEEL_BI(feel_bi_partition);
FEEL_BI(feel_bi_is_empty);

/* numbers (builtins_number.c) */
FEEL_BI(feel_bi_decimal);
FEEL_BI(feel_bi_floor);
FEEL_BI(feel_bi_ceiling);
FEEL_BI(feel_bi_round_up);
FEEL_BI(feel_bi_round_down);
FEEL_BI(feel_bi_round_half_up);
FEEL_BI(feel_bi_round_half_down);
FEEL_BI(feel_bi_abs);
FEEL_BI(feel_bi_modulo);
FEEL_BI(feel_bi_sqrt);
FEEL_BI(feel_bi_log);
FEEL_BI(feel_bi_exp);
FEEL_BI(feel_bi_odd);
FEEL_BI(feel_bi_even);

/* ranges (builtins_range.c) */
FEEL_BI(feel_bi_before);
FEEL_BI(feel_bi_after);
FEEL_BI(feel_bi_meets);
FEEL_BI(feel_bi_met_by);
FEEL_BI(feel_bi_overlaps);
FEEL_BI(feel_bi_overlaps_before);
FEEL_BI(feel_bi_overlaps_after);
FEEL_BI(feel_bi_finishes);
FEEL_BI(feel_bi_finished_by);
FEEL_BI(feel_bi_includes);
FEEL_BI(feel_bi_during);
FEEL_BI(feel_bi_starts);
FEEL_BI(feel_bi_started_by);
FEEL_BI(feel_bi_coincides);

/* temporal (temporal_value.c) */
FEEL_BI(feel_bi_date);
FEEL_BI(feel_bi_date_ymd);
FEEL_BI(feel_bi_time);
FEEL_BI(feel_bi_time_hms);
FEEL_BI(feel_bi_date_and_time);
FEEL_BI(feel_bi_date_and_time2);
FEEL_BI(feel_bi_duration);
FEEL_BI(feel_bi_years_and_months_duration);
FEEL_BI(feel_bi_now);
FEEL_BI(feel_bi_today);
FEEL_BI(feel_bi_day_of_week);
FEEL_BI(feel_bi_day_of_year);
FEEL_BI(feel_bi_week_of_year);
FEEL_BI(feel_bi_month_of_year);
FEEL_BI(feel_bi_last_day_of_month);

#endif
