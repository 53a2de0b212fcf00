package org.postern.health.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.felix.hc.api.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postern.smtp.testkit.TestConfig;

class SpoolCheckTest {
    private static final Pattern FREE = Pattern.compile("spool folder .*: (\\d+) MB free");

    @TempDir
    Path spool;

    private long freeMb() throws IOException {
        return Files.getFileStore(spool).getUsableSpace() / (1024 * 1024);
    }

    @Test
    void aWritableFolderWithRoomIsOkAndTellsTheFreeSpace() throws Exception {
        String text = ResultText.of(SpoolCheck.check(spool, 0, 0));
        Matcher free = FREE.matcher(text);
        assertTrue(text.startsWith("OK [OK spool folder " + spool + ": ") && free.find(), text);
        assertTrue(Math.abs(Long.parseLong(free.group(1)) - freeMb()) < 64, text);
        try (Stream<Path> left = Files.list(spool)) {
            assertEquals(List.of(), left.toList(), "the file written to try the folder is deleted");
        }
    }

    @Test
    void lessRoomThanTheMinimumWarnsAndLessThanTheCriticalFloorIsCritical() throws Exception {
        long plenty = freeMb() + 1_000_000;
        Result warn = SpoolCheck.check(spool, plenty, 0);
        assertEquals(Result.Status.WARN, warn.getStatus(), ResultText.of(warn));
        assertTrue(ResultText.of(warn).contains("MB free, below spool.min.free.mb " + plenty), ResultText.of(warn));
        Result critical = SpoolCheck.check(spool, plenty, plenty);
        assertEquals(Result.Status.CRITICAL, critical.getStatus(), ResultText.of(critical));
        assertTrue(ResultText.of(critical).contains("MB free, below spool.critical.free.mb " + plenty), ResultText.of(critical));
    }

    @Test
    void aMissingFolderIsCritical() {
        Path missing = spool.resolve("gone");
        assertEquals("CRITICAL [CRITICAL spool folder " + missing + " does not exist]", ResultText.of(SpoolCheck.check(missing, 100, 10)));
    }

    @Test
    void aFolderNoFileCanBeCreatedInIsCritical() {
        // the one folder where even root cannot create a file
        Path proc = Path.of("/proc");
        assumeTrue(Files.isDirectory(proc), "a Linux /proc");
        Result result = SpoolCheck.check(proc, 100, 10);
        assertEquals(Result.Status.CRITICAL, result.getStatus(), ResultText.of(result));
        assertTrue(ResultText.of(result).startsWith("CRITICAL [CRITICAL spool folder /proc: cannot create and delete a file in it: "),
                ResultText.of(result));
    }

    @Test
    void withoutTheServerTheSpoolIsUnknownAndCritical() {
        SpoolCheck check = new SpoolCheck(TestConfig.of(HealthSettings.class, Map.of()));
        assertEquals("CRITICAL [CRITICAL " + ListenersCheck.NOT_RUNNING + "]", ResultText.of(check.execute()));
    }
}
