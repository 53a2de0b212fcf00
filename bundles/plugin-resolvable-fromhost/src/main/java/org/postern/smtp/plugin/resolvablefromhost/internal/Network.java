package org.postern.smtp.plugin.resolvablefromhost.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A block of addresses, e.g. {@code 10.0.0.0/8} or {@code fc00::/7}; a bare address is a block of one. */
final class Network {
    private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
    private static final Pattern PREFIX_LENGTH = Pattern.compile("\\d{1,3}");

    private final byte[] prefix;
    private final int bits;

    private Network(byte[] prefix, int bits) {
        this.prefix = prefix;
        this.bits = bits;
    }

    /**
     * The networks of config lines as qpsmtpd reads them: the first word of each, so a comment may follow;
     * blank lines and lines starting with {@code #} are skipped, and any other word that is no network is
     * handed to {@code unusable}.
     */
    static List<Network> parseAll(List<String> lines, Consumer<String> unusable) {
        List<Network> networks = new ArrayList<>();
        for (String line : lines) {
            String entry = line.strip().split("\\s+", 2)[0];
            if (entry.isEmpty() || entry.startsWith("#")) {
                continue;
            }
            parse(entry).ifPresentOrElse(networks::add, () -> unusable.accept(entry));
        }
        return List.copyOf(networks);
    }

    static Optional<Network> parse(String entry) {
        String[] parts = entry.split("/", 2);
        Optional<InetAddress> address = literal(parts[0]);
        if (address.isEmpty()) {
            return Optional.empty();
        }
        byte[] bytes = address.get().getAddress();
        if (parts.length == 1) {
            return Optional.of(new Network(bytes, bytes.length * 8));
        }
        if (!PREFIX_LENGTH.matcher(parts[1]).matches() || Integer.parseInt(parts[1]) > bytes.length * 8) {
            return Optional.empty();
        }
        return Optional.of(new Network(bytes, Integer.parseInt(parts[1])));
    }

    /** An IP address written as text, read without asking the DNS; empty for a name or anything else. */
    static Optional<InetAddress> literal(String text) {
        try {
            Matcher ipv4 = IPV4.matcher(text);
            if (ipv4.matches()) {
                byte[] bytes = new byte[4];
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(ipv4.group(i + 1));
                    if (octet > 255) {
                        return Optional.empty();
                    }
                    bytes[i] = (byte) octet;
                }
                return Optional.of(InetAddress.getByAddress(bytes));
            }
            // In brackets and with a colon, InetAddress reads the text as an IPv6 literal or fails; it never looks it up.
            return text.contains(":") ? Optional.of(InetAddress.getByName("[" + text + "]")) : Optional.empty();
        } catch (UnknownHostException notAnAddress) {
            return Optional.empty();
        }
    }

    boolean contains(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length != prefix.length) {
            return false;
        }
        for (int bit = 0; bit < bits; bit++) {
            int mask = 0x80 >>> (bit % 8);
            if ((bytes[bit / 8] & mask) != (prefix[bit / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}
