/*
 * mb_card.h: card numbers. A card number is 16 decimal digits: a configurable
 * prefix (default "7001", the coalition's issuer range), random digits, and a
 * last digit that is the Luhn (ISO/IEC 7812) check digit of the 15 before it.
 * Pure except mb_card_generate, which draws its digits from lc_random_bytes.
 */
#ifndef MB_CARD_H
#define MB_CARD_H

#include "lc_members_msg.h"

#include <stdbool.h>
#include <stddef.h>

#define MB_CARD_PREFIX_DEFAULT "7001"
#define MB_CARD_PREFIX_MAX 8 /* leaves at least 7 random digits */

/* The Luhn check digit ('0'..'9') that completes the n digits at payload; -1
 * when one of them is not a digit. */
int mb_luhn_check_digit(const char *payload, size_t n);

/* True when s is exactly MB_CARD_DIGITS digits whose last is the Luhn check
 * digit of the others. NULL is not valid. */
bool mb_card_valid(const char *s);

/* True when prefix is 1 to MB_CARD_PREFIX_MAX digits. */
bool mb_card_prefix_valid(const char *prefix);

/* Writes prefix, random digits and the check digit to out (17 bytes with NUL).
 * Returns 0, LC_ERR_INVALID for a bad prefix or LC_ERR_CRYPTO without randomness. */
int mb_card_generate(const char *prefix, char out[MB_CARD_DIGITS + 1]);

#endif
