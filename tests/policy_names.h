/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy_names.h -- short names for lib/policy.h's SPF results, so a test
 * row fits on a line (t_policy.c, t_spf.c).  Trust levels are named in
 * t_policy.c alone: <arpa/nameser.h> already has a T_SPF.
 */
#ifndef RELAYSIGN_POLICY_NAMES_H
#define RELAYSIGN_POLICY_NAMES_H

#include "policy.h"

#define S_UNCH POLICY_SPF_UNCHECKED
#define S_NONE POLICY_SPF_NONE
#define S_NEUT POLICY_SPF_NEUTRAL
#define S_PASS POLICY_SPF_PASS
#define S_FAIL POLICY_SPF_FAIL
#define S_SOFT POLICY_SPF_SOFTFAIL
#define S_TEMP POLICY_SPF_TEMPERROR
#define S_PERM POLICY_SPF_PERMERROR

#endif
