#!/usr/bin/env bash
# Runs every test: unit tests, pax-exam integration tests, and the distribution driven by real clients.
# Installs what the tests run against from Debian's packages when it is missing: the real clients (swaks,
# python3), the reference implementation (qpsmtpd), which ReferenceRepliesIT runs side by side, and the
# daemons and programs plugins are tested against (dnsmasq for the DNS plugins, SpamAssassin's spamd for
# spamassassin, fortune for quit_fortune, rsyslog for logging/syslog, redis-server for the Redis state store,
# OpenLDAP's slapd for auth_ldap_bind, with Net::LDAP for qpsmtpd's, Postfix for the queue plugins that hand
# mail on, clamd for virus/clamdscan, with ClamAV::Client for qpsmtpd's, Dovecot for queue/lmtp and SASL, rspamd
# for rspamd, OpenDKIM and clamav-milter for milter, OpenDKIM and dkimpy (python3-dkim, python3-nacl, and
# python3-authres for its ARC sealing) for the DKIM and ARC interop tests, with Mail::DKIM and Mail::DMARC for
# qpsmtpd's dkim and dmarc), HAProxy in front of the listeners that take the PROXY protocol, p0f for ident/p0f,
# MaxMind::DB::Writer and mmdblookup for ident/geoip's test databases, and openssl, which makes the tests'
# certificates.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v swaks >/dev/null || missing+=(swaks)
command -v python3 >/dev/null || missing+=(python3)
command -v qpsmtpd-forkserver >/dev/null || missing+=(qpsmtpd)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
command -v spamd >/dev/null || [ -x /usr/sbin/spamd ] || missing+=(spamd)
[ -x /usr/games/fortune ] || missing+=(fortune-mod)
command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ] || missing+=(rsyslog)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
perl -MNet::LDAP -e1 2>/dev/null || missing+=(libnet-ldap-perl)
command -v openssl >/dev/null || missing+=(openssl)
[ -x /usr/sbin/postfix ] || missing+=(postfix)
[ -x /usr/sbin/clamd ] || missing+=(clamav-daemon)
perl -MClamAV::Client -e1 2>/dev/null || missing+=(libclamav-client-perl)
[ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-core dovecot-lmtpd)
[ -x /usr/sbin/opendkim ] || missing+=(opendkim)
command -v opendkim-genkey >/dev/null || missing+=(opendkim-tools)
/usr/bin/python3 -c 'import dkim' 2>/dev/null || missing+=(python3-dkim)
/usr/bin/python3 -c 'import nacl' 2>/dev/null || missing+=(python3-nacl)
/usr/bin/python3 -c 'import authres' 2>/dev/null || missing+=(python3-authres)
[ -x /usr/sbin/clamav-milter ] || missing+=(clamav-milter)
[ -x /usr/bin/rspamd ] || missing+=(rspamd)
[ -x /usr/sbin/haproxy ] || missing+=(haproxy)
perl -MMail::DKIM::Verifier -e1 2>/dev/null || missing+=(libmail-dkim-perl)
perl -MMail::DMARC::PurePerl -e1 2>/dev/null || missing+=(libmail-dmarc-perl)
[ -x /usr/sbin/p0f ] || missing+=(p0f)
{ perl -MMaxMind::DB::Writer::Tree -e1 2>/dev/null && command -v mmdblookup >/dev/null; } || missing+=(libmaxmind-db-writer-perl mmdb-bin)
if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

exec mvn -B verify "$@"
