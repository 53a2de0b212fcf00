package org.postern.dns.internal;

import io.netty.util.NetUtil;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The canonical names of the addresses in a hosts file, for reverse lookups as the system resolver answers
 * them from {@code /etc/hosts} before DNS (so 127.0.0.1 is {@code localhost}, as qpsmtpd's gethostbyaddr gives).
 */
final class HostsFile {
    static final Path SYSTEM = Path.of("/etc/hosts");

    private HostsFile() {
    }

    /** Each address's first name on its first line; empty when the file cannot be read. */
    static Map<InetAddress, String> canonicalNames(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return Map.of();
        }
        Map<InetAddress, String> names = new HashMap<>();
        for (String line : lines) {
            int comment = line.indexOf('#');
            String[] words = (comment >= 0 ? line.substring(0, comment) : line).trim().split("\\s+");
            if (words.length < 2) {
                continue;
            }
            InetAddress address = NetUtil.createInetAddressFromIpAddressString(words[0]);
            if (address != null) {
                names.putIfAbsent(address, words[1].toLowerCase(java.util.Locale.ROOT));
            }
        }
        return Map.copyOf(names);
    }
}
