package org.postern.smtp.plugin.dnsbl.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.postern.smtp.api.dns.DnsNames;

/**
 * One line of {@code dnsbl_zones}: {@code zone[=answers][:message]}. The zone and message are qpsmtpd's
 * ({@code %IP%} in the message becomes the client's address); the answers, Postern's, list the A records that
 * mean "listed" in this zone, as addresses or ranges ({@code zen.spamhaus.org=127.0.0.2-127.0.0.11}).
 *
 * @param message the reply text, or null to take the zone's TXT record
 * @param accepted ranges of answers that mean listed, as pairs of IPv4 addresses in numbers; empty for RFC 5782's
 *     convention ({@link DnsNames#isListing})
 */
record Zone(String name, List<long[]> accepted, String message) {
    /** Parses every line; a line that cannot be used is reported and skipped. */
    static List<Zone> parseAll(List<String> lines, Consumer<String> unusable) {
        List<Zone> zones = new ArrayList<>();
        for (String line : lines) {
            try {
                zones.add(parse(line));
            } catch (IllegalArgumentException e) {
                unusable.accept("dnsbl_zones: '" + line + "' skipped: " + e.getMessage());
            }
        }
        return zones;
    }

    static Zone parse(String line) {
        String[] zoneAndMessage = line.strip().split(":", 2);
        String message = zoneAndMessage.length > 1 && !zoneAndMessage[1].isBlank() ? zoneAndMessage[1].strip() : null;
        String[] nameAndAnswers = zoneAndMessage[0].strip().split("=", 2);
        String name = nameAndAnswers[0].strip();
        if (name.isEmpty() || !name.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("not a zone name");
        }
        List<long[]> accepted = new ArrayList<>();
        if (nameAndAnswers.length > 1) {
            for (String range : nameAndAnswers[1].split(",")) {
                String[] ends = range.strip().split("-", 2);
                long first = number(ends[0]);
                long last = ends.length > 1 ? number(ends[1]) : first;
                if (last < first) {
                    throw new IllegalArgumentException("the range " + range.strip() + " ends before it starts");
                }
                accepted.add(new long[] {first, last});
            }
        }
        return new Zone(name.endsWith(".") ? name.substring(0, name.length() - 1) : name, List.copyOf(accepted), message);
    }

    /** True when this answer means the address is listed in this zone. */
    boolean means(InetAddress answer) {
        if (accepted.isEmpty()) {
            return DnsNames.isListing(answer);
        }
        if (!(answer instanceof Inet4Address)) {
            return false;
        }
        long value = number(answer.getAddress());
        return accepted.stream().anyMatch(range -> value >= range[0] && value <= range[1]);
    }

    private static long number(String address) {
        if (!address.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("'" + address + "' is not an IPv4 address");
        }
        try {
            return number(InetAddress.getByName(address).getAddress());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + address + "' is not an IPv4 address", e);
        }
    }

    private static long number(byte[] bytes) {
        return ((long) (bytes[0] & 0xff) << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
    }
}
