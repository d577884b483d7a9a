/*
 * fuzz_amount_period.c: the small parsers and the money arithmetic.
 *
 * The first input byte picks what the rest is fed to:
 *   0  a money object ({"amount", "currency"}) through the codec;
 *   1  settlement's earn arithmetic (st_arith.c) with extreme 64-bit values,
 *      checked against 128-bit references: no overflow UB, results within bounds;
 *   2  RFC 3339 text: lc_time_parse, then lc_time_format and parse again;
 *   3  a 64-bit time: lc_time_format, then parse back to the same microsecond;
 *   4  a card number: mb_card_valid against an independent Luhn check;
 *   5  a period "YYYY-MM": lc_period_parse strictly, format back to the same text,
 *      its first and last microsecond, and the period of any time.
 */
#include "fuzz.h"
#include "fuzz_roundtrip.h"

#include "lc_api.h"
#include "lc_err.h"
#include "lc_period.h"
#include "lc_time.h"
#include "mb_card.h"
#include "st_arith.h"

#include <stdbool.h>
#include <string.h>

#define TIME_MAX_US INT64_C(253402300799999999) /* 9999-12-31T23:59:59.999999Z */
#define DAY_US (INT64_C(86400) * LC_USEC_PER_SEC)

/* Reads 8 bytes (zero-padded at the end of the input) as an int64. */
static int64_t s_i64(const uint8_t **p, size_t *n)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = v << 8 | (*n ? **p : 0);
        if (*n) {
            (*p)++;
            (*n)--;
        }
    }
    return (int64_t)v;
}

/* A NUL-terminated copy of the input (which may itself hold NULs). */
static char *s_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s, "malloc");
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void s_money(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!obj)
        return;
    if (fuzz_codec_round_trip(&lc_money_desc, obj) == LC_OK) {
        lc_money_t m;
        FUZZ_CHECK(lc_codec_decode(&lc_money_desc, obj, &m, NULL) == LC_OK, "decodes twice");
        FUZZ_CHECK(m.amount >= 0 && m.amount <= LC_API_POINTS_MAX, "amount within bounds");
        FUZZ_CHECK(m.currency && strlen(m.currency) <= 3, "currency at most 3 bytes");
        lc_codec_clear(&lc_money_desc, &m);
    }
    json_decref(obj);
}

/* Settlement's arithmetic with whatever 64-bit values the input holds. */
static void s_arith(const uint8_t *p, size_t n)
{
    typedef unsigned __int128 u128;
    int64_t a = s_i64(&p, &n), b = s_i64(&p, &n), c = s_i64(&p, &n);
    int64_t d = s_i64(&p, &n), e = s_i64(&p, &n);
    int64_t out = INT64_MIN;

    /* earn: floor(a * b / c), refused above 2^53 - 1. */
    int rc = st_earn_points(a, b, c, &out);
    if (a < 0 || b < 0 || c <= 0) {
        FUZZ_CHECK(rc == LC_ERR_INVALID, "earn refuses negative input");
    } else {
        u128 exact = (u128)(uint64_t)a * (uint64_t)b / (uint64_t)c;
        if (exact > (u128)LC_API_POINTS_MAX)
            FUZZ_CHECK(rc == LC_ERR_OVERFLOW, "earn refuses too many points");
        else
            FUZZ_CHECK(rc == LC_OK && (u128)out == exact, "earn rounds down exactly");
    }

    /* return: ceil(returned a * points c / amount b), capped at the c - e points not
     * reversed yet, refused once the d cents returned before plus a pass b. */
    out = INT64_MIN;
    rc = st_return_points(a, b, c, d, e, &out);
    if (rc == LC_OK) {
        FUZZ_CHECK(a >= 1 && c >= 0 && d >= 0 && e >= 0 && e <= c && (__int128)d + a <= b,
                   "return accepted sane input only");
        FUZZ_CHECK(out >= 0 && out <= c - e, "return reverses at most what is left");
        u128 ceil = ((u128)(uint64_t)a * (uint64_t)c + (uint64_t)b - 1) / (uint64_t)b;
        FUZZ_CHECK((u128)out == (ceil < (u128)(c - e) ? ceil : (u128)(c - e)),
                   "return is the capped ceiling");
    } else {
        FUZZ_CHECK(rc == LC_ERR_INVALID || rc == LC_ERR_CONFLICT, "return refuses");
        FUZZ_CHECK(out == INT64_MIN, "return writes nothing when it refuses");
    }

    /* value: points * cents per point, within 2^53 - 1. */
    out = INT64_MIN;
    rc = st_points_value(a, b, &out);
    if (a >= 0 && b >= 0 && (u128)(uint64_t)a * (uint64_t)b <= (u128)LC_API_POINTS_MAX)
        FUZZ_CHECK(rc == LC_OK && out == a * b, "value is the exact product");
    else
        FUZZ_CHECK(rc != LC_OK && out == INT64_MIN, "value refuses");

    /* eligible: amount a minus the excluded of up to 8 items (amounts and
     * categories from the rest of the input). */
    static char *excluded[] = {"tobacco", "gift_cards"};
    static char *categories[] = {"tobacco", "food", "gift_cards", NULL};
    st_earn_item_t items[8];
    size_t nitems = 0;
    __int128 total = 0, excl = 0;
    while (n > 0 && nitems < 8) {
        int cat = *p % 4;
        p++;
        n--;
        items[nitems] = (st_earn_item_t){.category = categories[cat], .amount = s_i64(&p, &n)};
        total += items[nitems].amount;
        if (cat == 0 || cat == 2)
            excl += items[nitems].amount;
        nitems++;
    }
    out = INT64_MIN;
    rc = st_eligible_amount(d, items, nitems, excluded, 2, &out);
    if (rc == LC_OK) {
        FUZZ_CHECK(d >= 0 && total <= d && out == d - excl && out >= 0 && out <= d,
                   "eligible is amount minus excluded, within [0, amount]");
    } else {
        FUZZ_CHECK(out == INT64_MIN, "eligible writes nothing when it refuses");
    }

    /* lot expiry: any representable time plus -100 to +100 years. */
    int64_t t = (int64_t)((uint64_t)e % (uint64_t)(TIME_MAX_US + 1));
    int months = (int)((uint64_t)d % 2401) - 1200;
    int64_t later = st_add_months(t, months);
    if (later >= 0 && later <= TIME_MAX_US) {
        char t1[LC_RFC3339_MAX], t2[LC_RFC3339_MAX];
        FUZZ_CHECK(lc_time_format(t, t1) == LC_OK && lc_time_format(later, t2) == LC_OK, "fmt");
        int y1 = atoi(t1), m1 = atoi(t1 + 5), y2 = atoi(t2), m2 = atoi(t2 + 5);
        FUZZ_CHECK((y2 * 12 + m2) - (y1 * 12 + m1) == months, "add_months moves whole months");
        FUZZ_CHECK(!strcmp(t1 + 10, t2 + 10), "add_months keeps the time of day");
        FUZZ_CHECK(atoi(t2 + 8) <= atoi(t1 + 8), "add_months clamps the day, never adds");
    }
}

static void s_time_text(const uint8_t *data, size_t size)
{
    char *s = s_text(data, size);
    int64_t t = INT64_MIN;
    int rc = lc_time_parse(s, &t);
    if (rc == LC_OK) {
        FUZZ_CHECK(t >= 0 && t <= TIME_MAX_US, "a parsed time is within 1970..9999");
        char text[LC_RFC3339_MAX];
        FUZZ_CHECK(lc_time_format(t, text) == LC_OK, "a parsed time formats");
        int64_t t2 = INT64_MIN;
        FUZZ_CHECK(lc_time_parse(text, &t2) == LC_OK && t2 == t, "format then parse is exact");
    } else {
        FUZZ_CHECK(rc == LC_ERR_INVALID && t == INT64_MIN, "a refused time writes nothing");
    }
    free(s);
}

static void s_time_value(const uint8_t *p, size_t n)
{
    int64_t t = s_i64(&p, &n);
    char text[LC_RFC3339_MAX];
    int rc = lc_time_format(t, text);
    if (t < 0 || t > TIME_MAX_US) {
        FUZZ_CHECK(rc == LC_ERR_INVALID, "out of range times are refused");
        return;
    }
    FUZZ_CHECK(rc == LC_OK, "every time in range formats");
    int64_t back = INT64_MIN;
    FUZZ_CHECK(lc_time_parse(text, &back) == LC_OK && back == t, "parse(format(t)) == t");
    FUZZ_CHECK(strlen(text) == 20 || strlen(text) == 27, "canonical length");
}

/* Luhn, written differently: the whole 16 digits sum to a multiple of 10. */
static bool s_luhn_ok(const char *s)
{
    size_t len = strlen(s);
    if (len != MB_CARD_DIGITS)
        return false;
    int sum = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if ((len - i) % 2 == 0)
            d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0;
}

static void s_card(const uint8_t *data, size_t size)
{
    char *s = s_text(data, size);
    FUZZ_CHECK(mb_card_valid(s) == s_luhn_ok(s), "card validation agrees with Luhn");
    size_t n = strlen(s);
    int check = mb_luhn_check_digit(s, n);
    FUZZ_CHECK(check == -1 || (check >= '0' && check <= '9'), "check digit range");
    if (mb_card_prefix_valid(s)) {
        char card[MB_CARD_DIGITS + 1];
        FUZZ_CHECK(mb_card_generate(s, card) == LC_OK, "generate with a valid prefix");
        FUZZ_CHECK(mb_card_valid(card) && !strncmp(card, s, n), "a generated card is valid");
    }
    free(s);
}

static void s_period(const uint8_t *data, size_t size)
{
    char *s = s_text(data, size);
    lc_period_t per = {-7, -7};
    int rc = lc_period_parse(s, &per);
    if (rc == LC_OK) {
        char back[LC_PERIOD_STRLEN + 1];
        FUZZ_CHECK(lc_period_format(&per, back) == LC_OK && !strcmp(back, s),
                   "a parsed period formats to its exact text");
        int64_t first, last;
        FUZZ_CHECK(lc_period_first_us(&per, &first) == LC_OK &&
                       lc_period_last_us(&per, &last) == LC_OK,
                   "a parsed period has bounds");
        FUZZ_CHECK(first >= 0 && last <= TIME_MAX_US && first < last, "bounds in range");
        FUZZ_CHECK(first % DAY_US == 0 && (last + 1) % DAY_US == 0, "whole days");
        int days = (int)((last + 1 - first) / DAY_US);
        FUZZ_CHECK(days >= 28 && days <= 31, "a month has 28 to 31 days");
        char t[LC_RFC3339_MAX];
        FUZZ_CHECK(lc_time_format(first, t) == LC_OK && !strncmp(t, s, 7) &&
                       !strcmp(t + 7, "-01T00:00:00Z"),
                   "first microsecond");
        lc_period_t of;
        FUZZ_CHECK(lc_period_of(first, &of) == LC_OK && of.year == per.year &&
                       of.month == per.month,
                   "first is in the period");
        FUZZ_CHECK(lc_period_of(last, &of) == LC_OK && of.year == per.year && of.month == per.month,
                   "last is in the period");
    } else {
        FUZZ_CHECK(rc == LC_ERR_INVALID && per.year == -7 && per.month == -7,
                   "a refused period writes nothing");
        bool strict = strlen(s) == 7 && s[4] == '-';
        for (int i = 0; strict && i < 7; i++)
            strict = i == 4 || (s[i] >= '0' && s[i] <= '9');
        if (strict) { /* the form is right: the values must be out of range */
            int y = atoi(s), m = atoi(s + 5);
            FUZZ_CHECK(y < LC_PERIOD_YEAR_MIN || m < 1 || m > 12, "a good period refused");
        }
    }
    /* The period of any time contains it. */
    const uint8_t *p = data;
    size_t n = size;
    int64_t t = s_i64(&p, &n);
    rc = lc_period_of(t, &per);
    FUZZ_CHECK((rc == LC_OK) == (t >= 0 && t <= TIME_MAX_US), "period of a time in range");
    if (rc == LC_OK) {
        int64_t first, last;
        FUZZ_CHECK(lc_period_first_us(&per, &first) == LC_OK &&
                       lc_period_last_us(&per, &last) == LC_OK && first <= t && t <= last,
                   "a time lies in its period");
    }
    free(s);
}

int fuzz_amount_period_one(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    switch (data[0] % 6) {
    case 0:
        s_money(rest, n);
        break;
    case 1:
        s_arith(rest, n);
        break;
    case 2:
        s_time_text(rest, n);
        break;
    case 3:
        s_time_value(rest, n);
        break;
    case 4:
        s_card(rest, n);
        break;
    case 5:
        s_period(rest, n);
        break;
    }
    return 0;
}

FUZZ_ENTRY(fuzz_amount_period_one)
