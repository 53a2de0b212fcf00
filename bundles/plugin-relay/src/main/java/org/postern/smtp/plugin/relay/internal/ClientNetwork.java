package org.postern.smtp.plugin.relay.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One entry of {@code relayclients}, {@code morerelayclients} or {@code norelayclients} as the addresses it
 * covers: a whole address ({@code 192.0.2.7}, {@code 2001:db8::7}), a partial one ending in a dot or colon
 * ({@code 192.168.42.}, {@code 2001:db8:e431:ae06:}) or a net/mask ({@code 10.1.0.0/24}, {@code 2001:db8::/32}).
 */
record ClientNetwork(String entry, InetAddress network, int prefixLength) {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern PARTIAL_IPV4 = Pattern.compile("(\\d{1,3}\\.){1,3}");
    private static final Pattern PARTIAL_IPV6 = Pattern.compile("(\\p{XDigit}{1,4}:){1,7}");
    /** Text with a colon is an IPv6 literal to InetAddress: parsed, never looked up in DNS. */
    private static final Pattern IPV6 = Pattern.compile("[\\p{XDigit}.]*:[\\p{XDigit}:.]*");

    /** The entry's network, or empty when it is none of the three forms. */
    static Optional<ClientNetwork> parse(String entry) {
        int slash = entry.indexOf('/');
        if (slash >= 0) {
            return withMask(entry, entry.substring(0, slash), entry.substring(slash + 1));
        }
        if (PARTIAL_IPV4.matcher(entry).matches()) {
            return leadingParts(entry, "\\.", 8).map(bytes -> new ClientNetwork(entry, bytes.address(), bytes.bits()));
        }
        if (PARTIAL_IPV6.matcher(entry).matches()) {
            return leadingParts(entry, ":", 16).map(bytes -> new ClientNetwork(entry, bytes.address(), bytes.bits()));
        }
        return address(entry).map(address -> new ClientNetwork(entry, address, 8 * address.getAddress().length));
    }

    boolean contains(InetAddress client) {
        byte[] candidate = client.getAddress();
        byte[] bytes = network.getAddress();
        if (candidate.length != bytes.length) {
            return false;
        }
        for (int bit = 0; bit < prefixLength; bit++) {
            if (bitAt(candidate, bit) != bitAt(bytes, bit)) {
                return false;
            }
        }
        return true;
    }

    /** As Net::IP does for qpsmtpd, a net/mask with bits set past the mask is refused: it is likely a typo. */
    private static Optional<ClientNetwork> withMask(String entry, String address, String mask) {
        if (!mask.matches("\\d{1,3}")) {
            return Optional.empty();
        }
        int prefixLength = Integer.parseInt(mask);
        return address(address).filter(network -> {
            byte[] bytes = network.getAddress();
            for (int bit = prefixLength; bit < 8 * bytes.length; bit++) {
                if (bitAt(bytes, bit)) {
                    return false;
                }
            }
            return prefixLength <= 8 * bytes.length;
        }).map(network -> new ClientNetwork(entry, network, prefixLength));
    }

    private static Optional<InetAddress> address(String text) {
        if (IPV4.matcher(text).matches()) {
            return leadingParts(text + ".", "\\.", 8).map(Prefix::address);
        }
        if (IPV6.matcher(text).matches()) {
            try {
                return Optional.of(InetAddress.getByName(text));
            } catch (UnknownHostException notAnAddress) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    private record Prefix(InetAddress address, int bits) {
    }

    /**
     * The address whose leading octets (8 bits each, decimal) or groups (16 bits, hexadecimal) are the parts
     * of this text, each followed by the separator, and the rest zero.
     */
    private static Optional<Prefix> leadingParts(String text, String separator, int partBits) {
        String[] parts = text.split(separator);
        byte[] bytes = new byte[partBits == 8 ? 4 : 16];
        int bytesPerPart = partBits / 8;
        for (int i = 0; i < parts.length; i++) {
            int value = Integer.parseInt(parts[i], partBits == 8 ? 10 : 16);
            if (value >= 1 << partBits) {
                return Optional.empty();
            }
            for (int b = 0; b < bytesPerPart; b++) {
                bytes[i * bytesPerPart + b] = (byte) (value >>> (8 * (bytesPerPart - 1 - b)));
            }
        }
        try {
            return Optional.of(new Prefix(InetAddress.getByAddress(bytes), parts.length * partBits));
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException("4 or 16 bytes are an address", impossible);
        }
    }

    private static boolean bitAt(byte[] bytes, int bit) {
        return (bytes[bit / 8] & (0x80 >>> (bit % 8))) != 0;
    }
}
