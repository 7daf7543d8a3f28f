#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>
