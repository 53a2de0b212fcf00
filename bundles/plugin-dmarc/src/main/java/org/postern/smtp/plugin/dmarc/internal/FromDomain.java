package org.postern.smtp.plugin.dmarc.internal;

import com.google.common.net.InternetDomainName;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The RFC5322.From domain DMARC evaluates (RFC 7489 3.1, 6.6.1): the domain of the From field's addresses. A message
 * with several From fields, or with addresses in different domains, has none that DMARC can use.
 */
final class FromDomain {
    private FromDomain() {
    }

    /** The domain of the From field values, lower case, or empty when there is no one valid domain. */
    static Optional<String> of(List<String> fromFields) {
        if (fromFields.size() != 1) {
            return Optional.empty();
        }
        Set<String> domains = new LinkedHashSet<>();
        for (String mailbox : withoutCommentsAndQuotes(fromFields.get(0)).split(",")) {
            String address = addressOf(mailbox);
            int at = address.lastIndexOf('@');
            if (at < 0) {
                continue;
            }
            String domain = address.substring(at + 1).replace(";", "").strip().toLowerCase(Locale.ROOT);
            domains.add(domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain);
        }
        if (domains.size() != 1) {
            return Optional.empty();
        }
        String domain = domains.iterator().next();
        return InternetDomainName.isValid(domain) && domain.contains(".") ? Optional.of(domain) : Optional.empty();
    }

    /** The addr-spec of a mailbox: in angle brackets when it has them, else all of it but a group's name. */
    private static String addressOf(String mailbox) {
        int open = mailbox.lastIndexOf('<');
        if (open < 0) {
            return mailbox.substring(mailbox.indexOf(':') + 1);
        }
        int close = mailbox.indexOf('>', open);
        return mailbox.substring(open + 1, close < 0 ? mailbox.length() : close);
    }

    /**
     * The value with its comments and quoted strings (display names, quoted local parts) taken out, so that the
     * commas, colons and at signs left separate mailboxes, groups and domains.
     */
    private static String withoutCommentsAndQuotes(String value) {
        StringBuilder text = new StringBuilder(value.length());
        int comment = 0;
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if ((quoted || comment > 0) && c == '\\') {
                i++;
            } else if (quoted) {
                quoted = c != '"';
            } else if (c == '(') {
                comment++;
            } else if (comment > 0) {
                comment -= c == ')' ? 1 : 0;
            } else if (c == '"') {
                quoted = true;
            } else {
                text.append(c);
            }
        }
        return text.toString();
    }
}
