/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sockets.h -- the milter socket around libmilter (sockets.c).
 */
#ifndef RELAYSIGN_SOCKETS_H
#define RELAYSIGN_SOCKETS_H

#include <stdbool.h>

struct conf;

/* sockets_nodelay: TCP_NODELAY on the listening socket libmilter opened. */
void sockets_nodelay(void);
/* sockets_stop_milter: smfi_stop, woken at once by a knock on spec. */
void sockets_stop_milter(const char *spec);
/* sockets_in_use: Socket is a unix socket something still accepts on. */
bool sockets_in_use(const char *spec);
/* sockets_owner: a unix Socket made as root goes to UserID; -1 said on stderr. */
int sockets_owner(const struct conf *conf);

#endif
