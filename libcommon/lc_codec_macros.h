/*
 * lc_codec_macros.h: shorthand for writing codec descriptor tables (lc_codec.h),
 * one macro per field type, so that a table row reads as the field's rules and
 * every *_msg.c table builds its rows the same way.
 *
 * The names are short because table rows are long; include this header only from
 * a .c file that defines descriptor tables (lc_*_msg.c), never from a header.
 *
 * Arguments: st the struct, m its member, n the JSON name, fl LC_FF_* flags (REQ,
 * ALW), lo/hi or mn/mx ranges or counts, t a names table, sd a sub-descriptor,
 * cnt the size_t count member, emax the bytes of each string, d the doc line.
 */
#ifndef LC_CODEC_MACROS_H
#define LC_CODEC_MACROS_H

#include "lc_codec.h"

#include <stddef.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define REQ LC_FF_REQUIRED
#define ALW LC_FF_ALWAYS

#define BOOL_F(st, m, n, fl, d)                                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_BOOL, fl), .doc = d                                                   \
    }
#define I64_F(st, m, n, fl, lo, hi, d)                                                             \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_I64, fl), .min = lo, .max = hi, .doc = d                              \
    }
#define U32_F(st, m, n, fl, lo, hi, d)                                                             \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_U32, fl), .min = lo, .max = hi, .doc = d                              \
    }
#define STR_F(st, m, n, fl, mx, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_STR, fl), .max = mx, .doc = d                                         \
    }
#define ID_F(st, m, n, fl, d)                                                                      \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ID, fl), .doc = d                                                     \
    }
#define TIME_F(st, m, n, fl, d)                                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_TIME, fl), .doc = d                                                   \
    }
#define HASH_F(st, m, n, fl, d)                                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_HASH, fl), .doc = d                                                   \
    }
#define ENUM_F(st, m, n, fl, t, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ENUM, fl), .names = t, .doc = d                                       \
    }
#define FLAGS_F(st, m, n, fl, t, d)                                                                \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_FLAGS, fl), .names = t, .doc = d                                      \
    }
#define OBJ_F(st, m, n, fl, sd, d)                                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_OBJ, fl), .sub = &sd, .doc = d                                        \
    }
#define ARR_F(st, m, cnt, n, fl, sd, mn, mx, d)                                                    \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_ARRAY, fl), .sub = &sd, .count_offset = offsetof(st, cnt), .min = mn, \
                                         .max = mx, .doc = d                                       \
    }
#define IDS_F(st, m, cnt, n, fl, mn, mx, d)                                                        \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_IDS, fl), .count_offset = offsetof(st, cnt), .min = mn, .max = mx,    \
                                       .doc = d                                                    \
    }
#define STRS_F(st, m, cnt, n, fl, mn, mx, emax, d)                                                 \
    {                                                                                              \
        LC_F(st, m, n, LC_FT_STRS, fl), .count_offset = offsetof(st, cnt), .min = mn, .max = mx,   \
                                        .elem_max = emax, .doc = d                                 \
    }

/* A descriptor named after its struct (the name proto/ catalogues use). */
#define DESC(var, st, tbl) const lc_msgdesc_t var = {#st, sizeof(st), tbl, N(tbl)}

#endif
