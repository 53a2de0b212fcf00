package org.postern.mailauth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The independent implementations the interop tests run: any program, and dkimpy through the script in the test resources. */
public final class Programs {
    private static final Path DKIMPY_SCRIPT = script();

    private Programs() {
    }

    private static Path script() {
        try (InputStream script = Programs.class.getResourceAsStream("/dkimpy.py")) {
            Path file = Files.createTempFile("dkimpy", ".py");
            file.toFile().deleteOnExit();
            return Files.write(file, script.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a program with {@code input} on its standard input; returns what it wrote, failing the test unless it exits 0. */
    public static String run(String input, String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().write(input.getBytes(StandardCharsets.ISO_8859_1));
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), String.join(" ", command) + ":\n" + output);
        return output;
    }

    /** Debian's dkimpy (/usr/bin/python3, python3-dkim) through {@code dkimpy.py}, which says what the arguments are. */
    public static String dkimpy(String input, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3", DKIMPY_SCRIPT.toString()));
        command.addAll(List.of(arguments));
        return run(input, command.toArray(String[]::new));
    }
}
