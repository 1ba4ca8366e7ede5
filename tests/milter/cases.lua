-- SPDX-License-Identifier: BSD-2-Clause
-- cases.lua -- whole milter transactions against a running relaysign,
-- printed as TAP.  Run by tests/milter/run.sh, which starts the filter
-- with a test configuration and passes -D sock=... -D bin=... -D conf=...
--
-- Configuration under test: RelayNetworks 192.0.2.0/24 2001:db8::/32,
-- RelayAuthUsers alma, Domain library.example.edu (RSA + Ed25519),
-- AuthservID relay.test.

local n = 0
local failed = 0

local function tap(cond, desc)
	n = n + 1
	if cond then
		print("ok " .. n .. " - " .. desc)
	else
		print("not ok " .. n .. " - " .. desc)
		failed = failed + 1
	end
end

-- One whole transaction; returns the connection (after EOM or early stop)
-- and what the filter replied at MAIL FROM and at the end.
local function transaction(t)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then
		error("cannot connect to " .. sock)
	end
	if t.actions ~= nil then
		-- The steps Postfix offers with milter_protocol = 6.  miltertest
		-- (1.4.2) puts its fourth argument in the actions field of the
		-- OPTNEG packet and its third in the steps field, whatever its
		-- manual says: so steps first, then actions.
		local e = mt.negotiate(conn, 6, SMFIP_HDR_LEADSPC + SMFIP_SKIP +
		    SMFIP_NR_CONN + SMFIP_NR_HELO + SMFIP_NR_HDR + SMFIP_NR_MAIL + SMFIP_NR_BODY +
		    SMFIP_NORCPT + SMFIP_NOUNKNOWN,
		    t.actions)
		if e ~= nil then
			error("mt.negotiate failed: " .. tostring(e))
		end
	end
	if mt.conninfo(conn, t.host or "relay.example", t.ip) ~= nil then
		error("mt.conninfo failed")
	end
	if mt.helo(conn, t.helo or "relay.example") ~= nil then
		error("mt.helo failed")
	end
	local macros = { "i", t.qid or "QID1" }
	if t.auth ~= nil then
		table.insert(macros, "{auth_authen}")
		table.insert(macros, t.auth)
	end
	mt.macro(conn, SMFIC_MAIL, (table.unpack or unpack)(macros))
	if mt.mailfrom(conn, t.mailfrom or "<alma@exlibrisgroup.com>") ~= nil then
		error("mt.mailfrom failed")
	end
	local r = { mail = mt.getreply(conn) }
	if r.mail ~= SMFIR_CONTINUE then
		return conn, r
	end
	for _, h in ipairs(t.headers) do
		if mt.header(conn, h[1], h[2]) ~= nil then
			error("mt.header failed")
		end
	end
	if mt.eoh(conn) ~= nil then
		error("mt.eoh failed")
	end
	r.eoh = mt.getreply(conn)
	if r.eoh ~= SMFIR_CONTINUE then
		return conn, r
	end
	if mt.bodystring(conn, t.body or "Your book is due.\r\n") ~= nil then
		error("mt.bodystring failed")
	end
	if mt.eom(conn) ~= nil then
		error("mt.eom failed")
	end
	r.eom = mt.getreply(conn)
	return conn, r
end

local function notice_headers(from)
	return {
		{ "From", from },
		{ "To", "patron@example.net" },
		{ "Subject", "Overdue notice" },
		{ "Date", "Sun, 22 Nov 2026 08:00:00 +0000" },
		{ "Message-ID", "<n1@alma.exlibrisgroup.com>" },
	}
end

local function has_ar(conn, needle)
	local v = mt.getheader(conn, "Authentication-Results", 0)
	return v ~= nil and string.find(v, needle, 1, true) ~= nil, v
end

local function main()
	local conn, r, ok, v

	-- 1. Trusted by network: signed twice (RSA and Ed25519), tagged.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = notice_headers("Library <library@library.example.edu>") })
	tap(r.eom == SMFIR_CONTINUE or r.eom == SMFIR_ACCEPT, "network: message accepted")
	tap(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "network: DKIM-Signature inserted")
	v = mt.getheader(conn, "DKIM-Signature", 0)
	tap(v ~= nil and string.find(v, "d=library.example.edu", 1, true) ~= nil,
	    "network: d= is the From domain")
	tap(mt.getheader(conn, "DKIM-Signature", 1) ~= nil, "network: a second signature (both algorithms)")
	ok, v = has_ar(conn, "x-relaysign=signed")
	tap(ok, "network: Authentication-Results says signed")
	tap(v ~= nil and string.find(v, "relay.test", 1, true) ~= nil,
	    "network: Authentication-Results carries our authserv-id")
	tap(v ~= nil and string.find(v, "policy.relay=network", 1, true) ~= nil,
	    "network: Authentication-Results names the relay rule")
	mt.disconnect(conn)

	-- 2. Trusted by SMTP AUTH login from an address we do not list.
	conn, r = transaction({ ip = "198.51.100.20", auth = "alma",
	    headers = notice_headers("library@library.example.edu") })
	tap(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "auth: signed")
	ok = has_ar(conn, "smtp.auth=alma")
	tap(ok, "auth: Authentication-Results reports smtp.auth")
	mt.disconnect(conn)

	-- 3. Untrusted client, From in a domain we hold no key for: accepted
	--    at the end of the headers (looked at only for results forged in
	--    our name), body never read, unchanged.
	conn, r = transaction({ ip = "203.0.113.7",
	    headers = notice_headers("Ex Libris <notices@exlibrisgroup.com>") })
	tap(r.mail == SMFIR_CONTINUE and r.eoh == SMFIR_ACCEPT,
	    "untrusted, unkeyed From: accepted at end of headers, body never read")
	tap(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRADD) and
	    not mt.eom_check(conn, MT_HDRCHANGE), "untrusted, unkeyed From: nothing added or changed")
	mt.disconnect(conn)

	-- 3b. Untrusted client, our From: not signed, but marked (a sealed
	--     x-relaysign=tagged reason=untrusted), so a second pass through
	--     a trusted address never signs it.
	conn, r = transaction({ ip = "203.0.113.7",
	    headers = notice_headers("Library <library@library.example.edu>") })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "untrusted, our From: not signed")
	ok, v = has_ar(conn, "reason=\"untrusted\"")
	tap(ok and string.find(v, "x-relaysign=tagged", 1, true) ~= nil and
	    string.find(v, "policy.seal=", 1, true) ~= nil,
	    "untrusted, our From: marked tagged/untrusted, sealed")
	mt.disconnect(conn)

	-- 4. Untrusted with a login that is not in RelayAuthUsers.
	conn, r = transaction({ ip = "203.0.113.7", auth = "mallory",
	    headers = notice_headers("library@library.example.edu") })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") and
	    has_ar(conn, "reason=\"untrusted\""), "unknown login: not signed, marked untrusted")
	mt.disconnect(conn)

	-- 4b. Untrusted with an Authentication-Results forged in our name: that
	--     field is removed (RFC 8601 5); nothing signed.
	local hf = notice_headers("Ex Libris <notices@exlibrisgroup.com>")
	table.insert(hf, 1, { "Authentication-Results", "relay.test; x-relaysign=signed" })
	conn, r = transaction({ ip = "203.0.113.7", headers = hf })
	tap(r.eom == SMFIR_CONTINUE or r.eom == SMFIR_ACCEPT, "untrusted, forged result: accepted")
	tap(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results") or
	    mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	    "untrusted, forged result: removed")
	tap(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRADD),
	    "untrusted, forged result: nothing added, not signed")
	mt.disconnect(conn)

	-- 4c. A content filter sends a signed notice through relaysign again:
	--     our own sealed result is recognised, kept, and nothing is signed
	--     twice, from a trusted address or not.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = notice_headers("Library <library@library.example.edu>") })
	local ar1 = mt.getheader(conn, "Authentication-Results", 0)
	local sig1 = mt.getheader(conn, "DKIM-Signature", 0)
	local sig2 = mt.getheader(conn, "DKIM-Signature", 1)
	mt.disconnect(conn)
	tap(ar1 ~= nil and sig1 ~= nil and sig2 ~= nil, "second pass: the first pass signed")
	local again = notice_headers("Library <library@library.example.edu>")
	table.insert(again, 1, { "DKIM-Signature", sig2 or "" })
	table.insert(again, 1, { "DKIM-Signature", sig1 or "" })
	table.insert(again, 3, { "Authentication-Results", ar1 or "" })
	for _, ip in ipairs({ "127.0.0.1", "192.0.2.10", "203.0.113.7" }) do
		conn, r = transaction({ ip = ip, headers = again })
		tap(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRADD) and
		    not mt.eom_check(conn, MT_HDRCHANGE) and
		    not mt.eom_check(conn, MT_HDRDELETE),
		    "second pass from " .. ip .. ": nothing signed, added or removed")
		mt.disconnect(conn)
	end
	-- The same result in another message (another Message-ID) is a forgery.
	again[#again] = { "Message-ID", "<other@evil.example>" }
	conn, r = transaction({ ip = "192.0.2.10", headers = again })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") and
	    (mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results") or
	     mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results")) and
	    has_ar(conn, "reason=\"already-handled\""),
	    "a sealed result copied into another message: removed, not signed")
	mt.disconnect(conn)

	-- 5. Trusted relay, From in a domain with no key: tagged, not signed.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = notice_headers("Alma <notices@exlibrisgroup.com>") })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "no key: not signed")
	ok = has_ar(conn, "x-relaysign=tagged")
	tap(ok, "no key: tagged")
	ok = has_ar(conn, "reason=\"no-key\"")
	tap(ok, "no key: reason no-key")
	mt.disconnect(conn)

	-- 6. Trusted, two From fields: bad-from, tagged, not signed.
	local h = notice_headers("library@library.example.edu")
	table.insert(h, { "From", "other@library.example.edu" })
	conn, r = transaction({ ip = "192.0.2.10", headers = h })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "two From fields: not signed")
	ok = has_ar(conn, "reason=\"bad-from\"")
	tap(ok, "two From fields: tagged bad-from")
	mt.disconnect(conn)

	-- 7. Trusted, one From with two addresses: not signed.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = notice_headers("library@library.example.edu, x@evil.test") })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "two mailboxes: not signed")
	mt.disconnect(conn)

	-- 8. Look-alike domain from a trusted relay: not signed.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = notice_headers("library@library.example.edu.evil.test") })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "look-alike domain: not signed")
	mt.disconnect(conn)

	-- 9. Three forged Authentication-Results with our id: all removed; others
	--    kept; a result in our name means a second pass: never signed.
	h = notice_headers("library@library.example.edu")
	table.insert(h, 1, { "Authentication-Results", "relay.test; x-relaysign=signed" })
	table.insert(h, 2, { "Authentication-Results", "other.example; spf=pass smtp.mailfrom=x" })
	table.insert(h, 3, { "Authentication-Results", " (comment) RELAY.TEST; dkim=pass" })
	table.insert(h, { "Authentication-Results", "\"relay.test\" 1; spf=pass" })
	conn, r = transaction({ ip = "192.0.2.10", headers = h })
	tap(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results") or
	    mt.eom_check(conn, MT_HDRDELETE, "Authentication-Results"),
	    "forged results: removed")
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature") and
	    has_ar(conn, "reason=\"already-handled\""), "forged results: tagged, not signed")
	mt.disconnect(conn)

	-- 10. IPv6 trusted relay.
	conn, r = transaction({ ip = "2001:db8::25",
	    headers = notice_headers("library@library.example.edu") })
	tap(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "IPv6 relay: signed")
	mt.disconnect(conn)

	-- 11. Null sender from a trusted relay: still signed (From decides).
	conn, r = transaction({ ip = "192.0.2.10", mailfrom = "<>",
	    headers = notice_headers("library@library.example.edu") })
	tap(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "null sender: signed")
	mt.disconnect(conn)

	-- 12. No From at all: not signed.
	conn, r = transaction({ ip = "192.0.2.10",
	    headers = { { "To", "patron@example.net" }, { "Subject", "x" } } })
	tap(not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"), "no From: not signed")
	ok = has_ar(conn, "bad-from")
	tap(ok, "no From: tagged bad-from")
	mt.disconnect(conn)

	-- 13. Two messages on one connection: the second untrusted-looking From
	--     is still judged by the same (trusted) client.
	conn = mt.connect(sock, 40, 0.25)
	mt.conninfo(conn, "relay.example", "192.0.2.10")
	for i = 1, 2 do
		mt.macro(conn, SMFIC_MAIL, "i", "QIDM" .. i)
		mt.mailfrom(conn, "<alma@exlibrisgroup.com>")
		for _, hh in ipairs(notice_headers("library@library.example.edu")) do
			mt.header(conn, hh[1], hh[2])
		end
		mt.eoh(conn)
		mt.bodystring(conn, "message " .. i .. "\r\n")
		mt.eom(conn)
		tap(mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"),
		    "two messages on one connection: message " .. i .. " signed")
	end
	mt.disconnect(conn)

	-- 14. ReturnPath is set (run.sh), but this MTA does not offer to change
	--     the envelope sender: what relaysign would sign is tempfailed, never
	--     passed on with the vendor's sender; what it would not sign passes.
	local noChg = SMFIF_ADDHDRS + SMFIF_CHGHDRS + SMFIF_SETSYMLIST
	conn, r = transaction({ ip = "192.0.2.10", actions = noChg,
	    headers = notice_headers("Library <library@library.example.edu>") })
	-- A tempfail with our text comes as a reply code: 451 4.7.1.
	tap(r.eom == SMFIR_REPLYCODE and mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
	    "relaysign: signing failed, try again later") and
	    not mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"),
	    "no SMFIF_CHGFROM offered, ReturnPath set: a notice to sign is tempfailed, 451 4.7.1")
	mt.disconnect(conn)
	conn, r = transaction({ ip = "192.0.2.10", actions = noChg,
	    headers = notice_headers("Ex Libris <notices@exlibrisgroup.com>") })
	tap(r.eom == SMFIR_CONTINUE and has_ar(conn, "reason=\"no-key\""),
	    "no SMFIF_CHGFROM offered: a message not to sign is tagged and passes")
	mt.disconnect(conn)
	conn, r = transaction({ ip = "192.0.2.10", actions = noChg, mailfrom = "<>",
	    headers = notice_headers("Library <library@library.example.edu>") })
	tap(r.eom == SMFIR_CONTINUE and mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"),
	    "no SMFIF_CHGFROM offered: the null sender (never rewritten) is still signed")
	mt.disconnect(conn)
end

local okrun, err = pcall(main)
if not okrun then
	print("not ok " .. (n + 1) .. " - the script stopped: " .. tostring(err))
	failed = failed + 1
	n = n + 1
end
print("1.." .. n)
if failed > 0 then
	os.exit(1)
end
