package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.postern.smtp.api.HookType;
import org.postern.smtp.api.ReturnCode;

/**
 * The README's hook table says what the reply table does: for every rule of every hook, the hook's row (and
 * the rows it refers to with "as `hook`") names the rule's reply code, and "close" where the rule closes.
 */
class ReadmeReplyTableTest {
    private static final Path README = Path.of("../../README.md");
    private static final Pattern SAME_AS = Pattern.compile("as `([a-z_]+)`");

    @Test
    void everyRuleOfTheReplyTableIsInTheReadmesHookTable() throws IOException {
        List<String> rows = hookTable(Files.readAllLines(README));
        List<String> missing = new ArrayList<>();
        for (HookType hook : HookType.values()) {
            Map<ReturnCode, Responses.Rule> rules = Responses.rulesOf(hook);
            if (rules.isEmpty()) {
                continue;
            }
            String row = rowWithReferences(rows, hook.hookName(), 0);
            if (row.isEmpty()) {
                missing.add(hook.hookName() + ": no row");
                continue;
            }
            rules.forEach((code, rule) -> {
                if (!row.contains(String.valueOf(rule.code()))) {
                    missing.add(hook.hookName() + " " + code + " → " + rule.code());
                }
                if (rule.close() && !row.contains("close")) {
                    missing.add(hook.hookName() + " " + code + " closes");
                }
            });
        }
        assertTrue(missing.isEmpty(), "README hook table misses: " + missing);
    }

    /** The rows of the table headed "| hook | context", not the plugin table, whose plugins may share a hook's name. */
    private static List<String> hookTable(List<String> readme) {
        return readme.stream()
                .dropWhile(line -> !line.startsWith("| hook | context"))
                .takeWhile(line -> line.startsWith("|"))
                .filter(line -> line.startsWith("| `"))
                .toList();
    }

    /** The hook's row, followed by the rows it refers to ("as `data_post_headers`"). */
    private static String rowWithReferences(List<String> rows, String hook, int depth) {
        String row = rows.stream().filter(line -> line.split("\\|")[1].contains("`" + hook + "`")).findFirst().orElse("");
        StringBuilder text = new StringBuilder(row);
        Matcher reference = SAME_AS.matcher(row.substring(Math.min(row.length(), row.indexOf('|', 2) + 1)));
        while (depth < 3 && reference.find()) {
            text.append(rowWithReferences(rows, reference.group(1), depth + 1));
        }
        return text.toString();
    }
}
