#ifndef PATCHBAY_CDNS_H
#define PATCHBAY_CDNS_H

// One DNS query through c-ares, answered synchronously: the caller runs it on a thread of its own (never an event
// loop's), so a slow or dead DNS server holds that thread only. Each query has its own c-ares channel, so queries
// on several threads share nothing.

enum {
    PB_DNS_A = 1,
    PB_DNS_AAAA = 28,
    PB_DNS_SRV = 33,
    PB_DNS_NAPTR = 35,
};

enum {
    PB_DNS_OK = 0,
    PB_DNS_NO_DATA = 1,     // the name exists, without records of the type
    PB_DNS_NOT_FOUND = 2,   // NXDOMAIN
    PB_DNS_TIMEOUT = 3,
    PB_DNS_FAILURE = 4,     // SERVFAIL, REFUSED, a malformed answer, no server
};

#define PB_DNS_MAX_RECORDS 32

typedef struct pb_dns_record {
    unsigned int ttl;
    char address[64];           // A, AAAA: the address as text
    unsigned short priority;    // SRV
    unsigned short weight;      // SRV
    unsigned short port;        // SRV
    unsigned short order;       // NAPTR
    unsigned short preference;  // NAPTR
    char flags[16];             // NAPTR
    char service[64];           // NAPTR
    char target[256];           // SRV target, NAPTR replacement
} pb_dns_record;

typedef struct pb_dns_result {
    int status;
    char error[128];
    int count;
    pb_dns_record records[PB_DNS_MAX_RECORDS];
} pb_dns_result;

/// Asks `servers` ("127.0.0.1:5353,[::1]:53"; NULL or empty: /etc/resolv.conf's) for `name`'s records of `type`,
/// waiting at most `timeout_ms` per try. A and AAAA look in /etc/hosts first, as the system resolver would.
void pb_dns_query(const char *servers, const char *name, int type, int timeout_ms, int tries, pb_dns_result *out);

#endif
