/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * table.h -- "relaysign -n -v": what the relay will sign for whom, read
 * from a loaded configuration (identity -> domains -> keys).
 */
#ifndef RELAYSIGN_TABLE_H
#define RELAYSIGN_TABLE_H

#include <stdio.h>

#include "conf.h"

/* table_print: the effective signing table of conf, on out. */
void table_print(FILE *out, const struct conf *conf);

#endif
