/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * confvalue.h -- the value syntax of relaysign.conf(5), apart from the
 * option table that applies it (conf.c).
 */
#ifndef RELAYSIGN_CONFVALUE_H
#define RELAYSIGN_CONFVALUE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest AuthservID, UserID, user or group name we take. */
#define CONF_ID_MAX 255
#define CONF_USER_MAX 32

/* conf_quote: s in double quotes, non-printable bytes as \xHH, long words cut; returns buf. */
const char *conf_quote(char *buf, size_t size, const char *s);
/* conf_word_index: index of w in words (ASCII case-insensitive), or -1. */
int conf_word_index(const char *const *words, const char *w);
/* conf_word_list: words joined with ", " into buf, for messages; returns buf. */
const char *conf_word_list(char *buf, size_t size, const char *const *words);
/* conf_edit_distance: optimal string alignment distance of two short lowercase words. */
size_t conf_edit_distance(const char *a, const char *b);
/* conf_is_token: RFC 2045 5.1 token (an RFC 8601 2.5 authserv-id here). */
bool conf_is_token(const char *s);
/* conf_is_field_name: RFC 5322 3.6.8 field-name. */
bool conf_is_field_name(const char *s);
/* conf_is_user_name: a portable user or group name, n bytes of s. */
bool conf_is_user_name(const char *s, size_t n);
/* conf_check_socket: a Socket form relaysign accepts; else false with *why_r. */
bool conf_check_socket(const char *s, const char **why_r);
/* conf_parse_bool: yes/no, true/false, 1/0, any case; 0, or -1. */
int conf_parse_bool(const char *w, bool *b_r);

#endif
