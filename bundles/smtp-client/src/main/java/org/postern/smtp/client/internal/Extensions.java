package org.postern.smtp.client.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.postern.smtp.client.Reply;

/** The service extensions a server listed in its EHLO or LHLO reply: keyword → parameters, keywords in upper case. */
record Extensions(Map<String, List<String>> offered) {
    static final Extensions NONE = new Extensions(Map.of());

    /** Parses the lines after the first (which is the server's greeting to us). */
    static Extensions parse(Reply hello) {
        Map<String, List<String>> offered = new HashMap<>();
        for (String line : hello.lines().subList(Math.min(1, hello.lines().size()), hello.lines().size())) {
            String[] words = line.strip().split("\\s+");
            if (!words[0].isEmpty()) {
                offered.putIfAbsent(words[0].toUpperCase(Locale.ROOT), List.of(words).subList(1, words.length));
            }
        }
        return new Extensions(Map.copyOf(offered));
    }

    boolean has(String keyword) {
        return offered.containsKey(keyword);
    }

    /** The parameters of an extension, upper-cased (AUTH's mechanisms, XCLIENT's attributes); empty when absent. */
    Set<String> words(String keyword) {
        return Set.copyOf(offered.getOrDefault(keyword, List.of()).stream().map(w -> w.toUpperCase(Locale.ROOT)).toList());
    }

    /** The server's message size limit from SIZE; 0 when it has none or states none (RFC 1870). */
    long sizeLimit() {
        List<String> size = offered.getOrDefault("SIZE", List.of());
        try {
            return size.isEmpty() ? 0 : Math.max(0, Long.parseLong(size.get(0)));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
