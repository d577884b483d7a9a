/*
 * mb_card.c: card numbers with a Luhn check digit (mb_card.h).
 */
#include "mb_card.h"
#include "lc_crypto.h"
#include "lc_err.h"

#include <string.h>

int mb_luhn_check_digit(const char *payload, size_t n)
{
    /* Walking right to left, every other digit starting with the rightmost payload
     * digit is doubled (the check digit itself will take the undoubled place). */
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        char c = payload[n - 1 - i];
        if (c < '0' || c > '9')
            return -1;
        int d = c - '0';
        if (i % 2 == 0) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return '0' + (10 - sum % 10) % 10;
}

bool mb_card_valid(const char *s)
{
    if (!s || strlen(s) != MB_CARD_DIGITS)
        return false;
    int check = mb_luhn_check_digit(s, MB_CARD_DIGITS - 1);
    return check >= 0 && s[MB_CARD_DIGITS - 1] == check;
}

bool mb_card_prefix_valid(const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (n < 1 || n > MB_CARD_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (prefix[i] < '0' || prefix[i] > '9')
            return false;
    return true;
}

int mb_card_generate(const char *prefix, char out[MB_CARD_DIGITS + 1])
{
    if (!mb_card_prefix_valid(prefix))
        return LC_ERR_INVALID;
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    while (n < MB_CARD_DIGITS - 1) {
        uint8_t buf[16];
        if (lc_random_bytes(buf, sizeof buf) != LC_OK)
            return LC_ERR_CRYPTO;
        /* Rejection sampling: bytes >= 250 would bias the digits. */
        for (size_t i = 0; i < sizeof buf && n < MB_CARD_DIGITS - 1; i++)
            if (buf[i] < 250)
                out[n++] = (char)('0' + buf[i] % 10);
    }
    out[MB_CARD_DIGITS - 1] = (char)mb_luhn_check_digit(out, MB_CARD_DIGITS - 1);
    out[MB_CARD_DIGITS] = '\0';
    return LC_OK;
}
