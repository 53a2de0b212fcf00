package org.postern.smtp.plugin.dmarc.internal;

import com.google.common.net.InternetDomainName;
import java.util.Locale;

/**
 * The organizational domain of a name (RFC 7489 3.2): the registrable domain under its public suffix, as the Public
 * Suffix List says, which Guava carries and updates with each release. A name under a suffix the list does not know
 * takes its last two labels, as the list's default rule {@code *} says; a name that is a public suffix itself is its
 * own organizational domain.
 */
final class OrganizationalDomain {
    private OrganizationalDomain() {
    }

    static String of(String domain) {
        String name = domain.toLowerCase(Locale.ROOT);
        if (!InternetDomainName.isValid(name)) {
            return name;
        }
        InternetDomainName parsed = InternetDomainName.from(name);
        if (parsed.isUnderPublicSuffix()) {
            return parsed.topPrivateDomain().toString();
        }
        if (parsed.isPublicSuffix()) {
            return name;
        }
        int lastDot = name.lastIndexOf('.');
        int secondLastDot = lastDot < 0 ? -1 : name.lastIndexOf('.', lastDot - 1);
        return name.substring(secondLastDot + 1);
    }

    /** RFC 7489 3.1: strict alignment wants the same name, relaxed the same organizational domain. */
    static boolean aligned(String authenticated, String from, boolean strict) {
        if (authenticated == null || authenticated.isEmpty()) {
            return false;
        }
        String domain = authenticated.toLowerCase(Locale.ROOT);
        return strict ? domain.equals(from) : of(domain).equals(of(from));
    }
}
