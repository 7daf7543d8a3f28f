#include "COsip.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pb_osip_log_fn pb_log = NULL;
static pthread_once_t pb_once = PTHREAD_ONCE_INIT;

/* osip formats with printf conventions and a va_list, which Swift cannot take apart: format here. */
static void pb_trace(const char *fi, int li, osip_trace_level_t level, const char *chfr, va_list ap) {
    if (pb_log == NULL || chfr == NULL) return;
    char buffer[1024];
    vsnprintf(buffer, sizeof buffer, chfr, ap);
    pb_log((int)level, fi ? fi : "", li, buffer);
}

static void pb_init_once(void) {
    parser_init();
    /* Info levels are per-message chatter; formatting them would cost on every parse. */
    osip_trace_initialize_func(OSIP_WARNING, pb_trace);
}

void pb_osip_init(pb_osip_log_fn log) {
    if (pb_log == NULL) pb_log = log;
    pthread_once(&pb_once, pb_init_once);
}
