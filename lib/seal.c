/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * seal.c -- HMAC-SHA256 (OpenSSL's EVP_MAC) over our own
 * Authentication-Results text and the message it was made for.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "seal.h"

#define SEAL_PREFIX "policy.seal="
#define SEAL_KEY_LEN 32
#define SEAL_MAC_LEN 16			/* bytes of the HMAC kept */
#define SEAL_HEX_LEN (2 * SEAL_MAC_LEN)
/* Separates the MAC's inputs; never in a header field body. */
static const unsigned char sep = '\0';

struct seal {
	EVP_MAC *mac;
	unsigned char key[SEAL_KEY_LEN];
};

/* seal_new: a fresh secret from OpenSSL's generator. */
struct seal *
seal_new(void)
{
	struct seal *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (RAND_priv_bytes(s->key, sizeof(s->key)) != 1 ||
	    (s->mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) {
		seal_free(s);
		return NULL;
	}
	return s;
}

/* seal_free: forgets the secret. */
void
seal_free(struct seal *s)
{
	if (s == NULL)
		return;
	EVP_MAC_free(s->mac);
	OPENSSL_cleanse(s->key, sizeof(s->key));
	free(s);
}

/* is_wsp: white space an MTA may add or remove when it refolds a field. */
static bool
is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* update_stripped: feeds text[0..len) without its white space. */
static int
update_stripped(EVP_MAC_CTX *ctx, const char *text, size_t len)
{
	size_t i = 0, run;

	while (i < len) {
		while (i < len && is_wsp(text[i]))
			i++;
		for (run = 0; i + run < len && !is_wsp(text[i + run]); run++)
			;
		if (run > 0 && EVP_MAC_update(ctx, (const unsigned char *)text + i, run) != 1)
			return -1;
		i += run;
	}
	return EVP_MAC_update(ctx, &sep, 1) == 1 ? 0 : -1;
}

/* make_hex: the seal of ar[0..arlen), from and msgid, as SEAL_HEX_LEN hex digits. */
static int
make_hex(const struct seal *s, const char *ar, size_t arlen, const char *from,
         const char *msgid, char hex[SEAL_HEX_LEN + 1])
{
	OSSL_PARAM params[2];
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0, hexlen = 0;
	EVP_MAC_CTX *ctx;
	int rc = -1;

	if ((ctx = EVP_MAC_CTX_new(s->mac)) == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx, s->key, sizeof(s->key), params) == 1 &&
	    update_stripped(ctx, ar, arlen) == 0 &&
	    update_stripped(ctx, from, strlen(from)) == 0 &&
	    update_stripped(ctx, msgid, strlen(msgid)) == 0 &&
	    EVP_MAC_final(ctx, mac, &maclen, sizeof(mac)) == 1 && maclen >= SEAL_MAC_LEN &&
	    OPENSSL_buf2hexstr_ex(hex, SEAL_HEX_LEN + 1, &hexlen, mac, SEAL_MAC_LEN, '\0') == 1 &&
	    hexlen == SEAL_HEX_LEN + 1)
		rc = 0;
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* seal_append: "LF TAB policy.seal=HEX" after the field's last item. */
int
seal_append(const struct seal *s, char *ar, size_t len, const char *from, const char *msgid)
{
	char hex[SEAL_HEX_LEN + 1];
	size_t n = strlen(ar);

	if (s == NULL || from == NULL || msgid == NULL || n >= len ||
	    len - n < sizeof("\n\t" SEAL_PREFIX) + SEAL_HEX_LEN ||
	    make_hex(s, ar, n, from, msgid, hex) != 0)
		return -1;
	memcpy(ar + n, "\n\t" SEAL_PREFIX, sizeof("\n\t" SEAL_PREFIX) - 1);
	memcpy(ar + n + sizeof("\n\t" SEAL_PREFIX) - 1, hex, SEAL_HEX_LEN + 1);
	return 0;
}

/* seal_check: the last "policy.seal=", then exactly the hex and white space. */
bool
seal_check(const struct seal *s, const char *value, const char *from, const char *msgid)
{
	char want[SEAL_HEX_LEN + 1];
	const char *at = NULL, *p, *hex;
	bool ok;

	if (s == NULL || value == NULL || from == NULL || msgid == NULL)
		return false;
	for (p = value; (p = strstr(p, SEAL_PREFIX)) != NULL; p++)
		at = p;
	if (at == NULL)
		return false;
	hex = at + sizeof(SEAL_PREFIX) - 1;
	if (strspn(hex, "0123456789ABCDEF") != SEAL_HEX_LEN)
		return false;
	for (p = hex + SEAL_HEX_LEN; *p != '\0'; p++)
		if (!is_wsp(*p))
			return false;
	if (make_hex(s, value, (size_t)(at - value), from, msgid, want) != 0)
		return false;
	ok = CRYPTO_memcmp(want, hex, SEAL_HEX_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}
