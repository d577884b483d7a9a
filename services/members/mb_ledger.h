/*
 * mb_ledger.h: what the members service asks the ledger, as a client
 * (lc_ledger_msg structs, lc_codec, Lazy Pirate via lc_bus_call). Every call is
 * idempotent, so the bounded resends of lc_bus_call are safe. Returns 0,
 * LC_ERR_NOT_FOUND where documented, LC_ERR_UNAVAILABLE when the ledger did not
 * answer (or answered unavailable / deadline_exceeded), LC_ERR_PROTO for any
 * other refusal or a reply that does not decode.
 */
#ifndef MB_LEDGER_H
#define MB_LEDGER_H

#include "lc_bus.h"
#include "lc_ledger_msg.h"

#include <stdbool.h>

#define MB_LEDGER_TIMEOUT_MS 1000 /* per attempt: callers of members wait too */
#define MB_LEDGER_RETRIES 2       /* resends after the first attempt */

/* Creates the member's account: id = member id, kind member, flags
 * debits_must_not_exceed_credits + lots. "exists" counts as success. */
int mb_ledger_open_account(lc_bus_client_t *cli, const lc_id_t *member, const char *rid);

/* The member's account; LC_ERR_NOT_FOUND when the ledger has none. */
int mb_ledger_account(lc_bus_client_t *cli, const lc_id_t *member, ld_account_view_t *out,
                      const char *rid);

/* The account's open lots, soonest expiry first. Clear out with
 * lc_codec_clear(&ld_lots_rep_desc, out). */
int mb_ledger_lots(lc_bus_client_t *cli, const lc_id_t *member, ld_lots_rep_t *out,
                   const char *rid);

/* Sets (frozen true) or clears the account's frozen flag; converges on retries.
 * LC_ERR_NOT_FOUND when the ledger has no such account. */
int mb_ledger_set_frozen(lc_bus_client_t *cli, const lc_id_t *member, bool frozen, const char *rid);

#endif
