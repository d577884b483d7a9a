/*
 * fuzz_roundtrip.h: the codec property every fuzz target checks (fuzz_roundtrip.c).
 */
#ifndef FUZZ_ROUNDTRIP_H
#define FUZZ_ROUNDTRIP_H

#include "lc_codec.h"

#include <jansson.h>

/* Decodes obj with desc into a heap struct of exactly desc->size bytes (so ASan
 * sees any write past it) and checks the codec's contract:
 *   - refused: LC_ERR_INVALID with a known error code and a path, the struct left
 *     all zero;
 *   - accepted: x encodes, its encoding decodes again, and encodes to the same
 *     JSON (decode(encode(x)) == x as JSON); lc_codec_clear leaves no pointer.
 * Aborts (a finding) when one does not hold. Returns what the first decode did. */
int fuzz_codec_round_trip(const lc_msgdesc_t *desc, const json_t *obj);

/* Checks that every pointer and count lc_codec_clear owns in obj is zero. */
void fuzz_codec_check_cleared(const lc_msgdesc_t *desc, const void *obj);

#endif
