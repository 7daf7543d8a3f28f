#include "CDNS.h"

#include <arpa/inet.h>
#include <ares.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void library_init(void) { ares_library_init(ARES_LIB_INIT_ALL); }

typedef struct query_state {
    int type;
    int done;
    pb_dns_result *out;
} query_state;

static void copy(char *to, size_t size, const void *from) {
    snprintf(to, size, "%s", from ? (const char *)from : "");
}

static void fail(pb_dns_result *out, int status, const char *message) {
    out->status = status;
    out->count = 0;
    copy(out->error, sizeof out->error, message);
}

// c-ares parses SRV and NAPTR records without their TTL: the answer section is walked for it (the lowest TTL of
// the records of the asked type, as an RRset has one TTL).
static unsigned int answer_ttl(const unsigned char *abuf, int alen, int type) {
    if (alen < 12) return 0;
    int questions = (abuf[4] << 8) | abuf[5];
    int answers = (abuf[6] << 8) | abuf[7];
    const unsigned char *p = abuf + 12;
    unsigned int ttl = 0;
    int seen = 0;
    for (int i = 0; i < questions; i++) {
        char *name = NULL;
        long length = 0;
        if (ares_expand_name(p, abuf, alen, &name, &length) != ARES_SUCCESS) return 0;
        ares_free_string(name);
        p += length + 4;
        if (p > abuf + alen) return 0;
    }
    for (int i = 0; i < answers; i++) {
        char *name = NULL;
        long length = 0;
        if (ares_expand_name(p, abuf, alen, &name, &length) != ARES_SUCCESS) break;
        ares_free_string(name);
        p += length;
        if (p + 10 > abuf + alen) break;
        int rtype = (p[0] << 8) | p[1];
        unsigned int rttl = ((unsigned)p[4] << 24) | ((unsigned)p[5] << 16) | ((unsigned)p[6] << 8) | p[7];
        int rdlength = (p[8] << 8) | p[9];
        if (rtype == type && (!seen || rttl < ttl)) {
            ttl = rttl;
            seen = 1;
        }
        p += 10 + rdlength;
    }
    return ttl;
}

static void parse(query_state *q, const unsigned char *abuf, int alen) {
    pb_dns_result *out = q->out;
    out->count = 0;
    int status = ARES_SUCCESS;
    switch (q->type) {
    case PB_DNS_A: {
        struct ares_addrttl ttls[PB_DNS_MAX_RECORDS];
        int n = PB_DNS_MAX_RECORDS;
        status = ares_parse_a_reply(abuf, alen, NULL, ttls, &n);
        for (int i = 0; status == ARES_SUCCESS && i < n; i++) {
            pb_dns_record *r = &out->records[out->count++];
            memset(r, 0, sizeof *r);
            r->ttl = ttls[i].ttl < 0 ? 0 : (unsigned)ttls[i].ttl;
            inet_ntop(AF_INET, &ttls[i].ipaddr, r->address, sizeof r->address);
        }
        break;
    }
    case PB_DNS_AAAA: {
        struct ares_addr6ttl ttls[PB_DNS_MAX_RECORDS];
        int n = PB_DNS_MAX_RECORDS;
        status = ares_parse_aaaa_reply(abuf, alen, NULL, ttls, &n);
        for (int i = 0; status == ARES_SUCCESS && i < n; i++) {
            pb_dns_record *r = &out->records[out->count++];
            memset(r, 0, sizeof *r);
            r->ttl = ttls[i].ttl < 0 ? 0 : (unsigned)ttls[i].ttl;
            inet_ntop(AF_INET6, &ttls[i].ip6addr, r->address, sizeof r->address);
        }
        break;
    }
    case PB_DNS_SRV: {
        struct ares_srv_reply *srv = NULL;
        status = ares_parse_srv_reply(abuf, alen, &srv);
        unsigned int ttl = answer_ttl(abuf, alen, PB_DNS_SRV);
        for (struct ares_srv_reply *s = srv; s && out->count < PB_DNS_MAX_RECORDS; s = s->next) {
            pb_dns_record *r = &out->records[out->count++];
            memset(r, 0, sizeof *r);
            r->ttl = ttl;
            r->priority = s->priority;
            r->weight = s->weight;
            r->port = s->port;
            copy(r->target, sizeof r->target, s->host);
        }
        if (srv) ares_free_data(srv);
        break;
    }
    case PB_DNS_NAPTR: {
        struct ares_naptr_reply *naptr = NULL;
        status = ares_parse_naptr_reply(abuf, alen, &naptr);
        unsigned int ttl = answer_ttl(abuf, alen, PB_DNS_NAPTR);
        for (struct ares_naptr_reply *n = naptr; n && out->count < PB_DNS_MAX_RECORDS; n = n->next) {
            pb_dns_record *r = &out->records[out->count++];
            memset(r, 0, sizeof *r);
            r->ttl = ttl;
            r->order = n->order;
            r->preference = n->preference;
            copy(r->flags, sizeof r->flags, n->flags);
            copy(r->service, sizeof r->service, n->service);
            copy(r->target, sizeof r->target, n->replacement);
        }
        if (naptr) ares_free_data(naptr);
        break;
    }
    default:
        status = ARES_ENOTIMP;
    }
    if (status == ARES_ENODATA || (status == ARES_SUCCESS && out->count == 0)) {
        fail(out, PB_DNS_NO_DATA, "no records of that type");
    } else if (status != ARES_SUCCESS) {
        fail(out, PB_DNS_FAILURE, ares_strerror(status));
    } else {
        out->status = PB_DNS_OK;
    }
}

static void answered(void *arg, int status, int timeouts, unsigned char *abuf, int alen) {
    (void)timeouts;
    query_state *q = arg;
    q->done = 1;
    switch (status) {
    case ARES_SUCCESS: parse(q, abuf, alen); break;
    case ARES_ENODATA: fail(q->out, PB_DNS_NO_DATA, "no records of that type"); break;
    case ARES_ENOTFOUND: fail(q->out, PB_DNS_NOT_FOUND, "no such name (NXDOMAIN)"); break;
    case ARES_ETIMEOUT: fail(q->out, PB_DNS_TIMEOUT, "no answer from the DNS server"); break;
    default: fail(q->out, PB_DNS_FAILURE, ares_strerror(status)); break;
    }
}

static int from_hosts_file(ares_channel channel, const char *name, int type, pb_dns_result *out) {
    struct hostent *host = NULL;
    int family = type == PB_DNS_AAAA ? AF_INET6 : AF_INET;
    if (ares_gethostbyname_file(channel, name, family, &host) != ARES_SUCCESS || !host) return 0;
    out->count = 0;
    for (char **a = host->h_addr_list; *a && out->count < PB_DNS_MAX_RECORDS; a++) {
        pb_dns_record *r = &out->records[out->count++];
        memset(r, 0, sizeof *r);
        // /etc/hosts has no TTL; an hour, as it changes only by hand.
        r->ttl = 3600;
        inet_ntop(family, *a, r->address, sizeof r->address);
    }
    ares_free_hostent(host);
    out->status = out->count > 0 ? PB_DNS_OK : PB_DNS_NO_DATA;
    return out->count > 0;
}

void pb_dns_query(const char *servers, const char *name, int type, int timeout_ms, int tries, pb_dns_result *out) {
    memset(out, 0, sizeof *out);
    pthread_once(&library_once, library_init);
    struct ares_options options;
    memset(&options, 0, sizeof options);
    options.timeout = timeout_ms;
    options.tries = tries;
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    ares_channel channel;
    int status = ares_init_options(&channel, &options, mask);
    if (status != ARES_SUCCESS) return fail(out, PB_DNS_FAILURE, ares_strerror(status));
    if (servers && *servers) {
        status = ares_set_servers_ports_csv(channel, servers);
        if (status != ARES_SUCCESS) {
            ares_destroy(channel);
            return fail(out, PB_DNS_FAILURE, "the DNS server list is not valid");
        }
    }
    if ((type == PB_DNS_A || type == PB_DNS_AAAA) && from_hosts_file(channel, name, type, out)) {
        ares_destroy(channel);
        return;
    }
    query_state q = {.type = type, .done = 0, .out = out};
    ares_query(channel, name, 1 /* C_IN */, type, answered, &q);
    // poll, not select: a busy process has descriptors beyond FD_SETSIZE.
    while (!q.done) {
        ares_socket_t sockets[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(channel, sockets, ARES_GETSOCK_MAXNUM);
        struct pollfd fds[ARES_GETSOCK_MAXNUM];
        int n = 0;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short events = 0;
            if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
            if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
            if (!events) continue;
            fds[n].fd = sockets[i];
            fds[n].events = events;
            fds[n].revents = 0;
            n++;
        }
        if (n == 0) break;
        struct timeval tv;
        struct timeval *wait = ares_timeout(channel, NULL, &tv);
        int ms = wait ? (int)(wait->tv_sec * 1000 + wait->tv_usec / 1000) : 1000;
        int ready = poll(fds, n, ms);
        if (ready <= 0) {
            ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (int i = 0; i < n; i++) {
            ares_socket_t r = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
            ares_socket_t w = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
            if (r != ARES_SOCKET_BAD || w != ARES_SOCKET_BAD) ares_process_fd(channel, r, w);
        }
    }
    ares_destroy(channel);
    if (!q.done) fail(out, PB_DNS_FAILURE, "the query could not be sent");
}
