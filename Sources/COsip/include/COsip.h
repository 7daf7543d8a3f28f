#ifndef PATCHBAY_COSIP_H
#define PATCHBAY_COSIP_H

#include <stdlib.h>
#include <string.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
#include <osipparser2/osip_md5.h>

/// Receives osip's trace lines once formatted; level is osip's (0 fatal ... 7 info4).
typedef void (*pb_osip_log_fn)(int level, const char *file, int line, const char *message);

/// Calls parser_init() exactly once and sends osip's trace output to `log` instead of stdout/stderr.
/// Safe to call from several threads; later calls do nothing.
void pb_osip_init(pb_osip_log_fn log);

/// osip_free is a macro that goes through osip_free_func when set.
static inline void pb_osip_free(void *p) { osip_free(p); }

static inline const char *pb_osip_method(const osip_message_t *m) { return m->sip_method; }
static inline int pb_osip_status(const osip_message_t *m) { return m->status_code; }
static inline const char *pb_osip_call_id_number(const osip_message_t *m) {
    return m->call_id ? m->call_id->number : NULL;
}
static inline const char *pb_osip_cseq_method(const osip_message_t *m) { return m->cseq ? m->cseq->method : NULL; }
static inline const char *pb_osip_cseq_number(const osip_message_t *m) { return m->cseq ? m->cseq->number : NULL; }
static inline int pb_osip_has_from(const osip_message_t *m) { return m->from != NULL; }
static inline int pb_osip_has_to(const osip_message_t *m) { return m->to != NULL; }
static inline int pb_osip_via_count(const osip_message_t *m) { return osip_list_size(&m->vias); }
static inline int pb_osip_has_req_uri(const osip_message_t *m) { return m->req_uri != NULL; }

/// MD5 of `length` bytes into `digest` (16 bytes), with libosip2's implementation, for SIP digest authentication
/// (RFC 2617/3261), which is the only thing Patchbay hashes with MD5.
static inline void pb_md5(const unsigned char *bytes, unsigned int length, unsigned char digest[16]) {
    osip_MD5_CTX ctx;
    osip_MD5Init(&ctx);
    osip_MD5Update(&ctx, (unsigned char *)bytes, length);
    osip_MD5Final(digest, &ctx);
}

#endif
