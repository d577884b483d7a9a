/*
 * fuzz_codec_ledger.c: the proto codec against the ledger's tables.
 *
 * The input is a message body. It is decoded with every request descriptor of
 * ld_msgtypes (what the ledger accepts from the bus) and every reply descriptor
 * (what settlement, members and the tools accept from the ledger), then encoded,
 * decoded and encoded again: the round trip must be stable (decode(encode(x)) == x
 * as JSON), a refused message must leave the struct all zero with a known error
 * code, and nothing may leak (fuzz_roundtrip.h).
 */
#include "fuzz.h"
#include "fuzz_roundtrip.h"

#include "lc_ledger_msg.h"

int fuzz_codec_ledger_one(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!body)
        return 0;
    for (const ld_msgtype_t *t = ld_msgtypes; t->type; t++) {
        fuzz_codec_round_trip(t->request, body);
        fuzz_codec_round_trip(t->reply, body);
    }
    /* The element descriptors alone, as a journal subscriber reads one entry. */
    fuzz_codec_round_trip(&ld_entry_desc, body);
    fuzz_codec_round_trip(&ld_transfer_desc, body);
    fuzz_codec_round_trip(&ld_account_new_desc, body);
    json_decref(body);
    return 0;
}

FUZZ_ENTRY(fuzz_codec_ledger_one)
