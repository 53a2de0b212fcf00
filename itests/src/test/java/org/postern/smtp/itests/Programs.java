package org.postern.smtp.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Programs the tests run beside the servers (dkimpy, OpenDKIM's tools), fed on standard input. */
final class Programs {
    private Programs() {
    }

    /**
     * Runs the command with this input (ISO-8859-1, so any octet of a message passes unchanged) and returns its
     * output and error; fails unless it exits with 0 within 60 s.
     */
    static String run(String input, String... command) throws Exception {
        return runExpecting(0, input, command);
    }

    /** As {@link #run}, for a command expected to exit with this status. */
    static String runExpecting(int exitStatus, String input, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().write(input.getBytes(StandardCharsets.ISO_8859_1));
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(String.join(" ", command) + " timed out", process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(String.join(" ", command) + ":\n" + output, exitStatus, process.exitValue());
        return output;
    }
}
