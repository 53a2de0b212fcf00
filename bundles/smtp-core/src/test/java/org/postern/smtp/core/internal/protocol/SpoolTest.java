package org.postern.smtp.core.internal.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
    @TempDir
    Path folder;

    private long spoolFiles() throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.count();
        }
    }

    @Test
    void smallBodiesStayInMemory() throws IOException {
        try (Spool spool = new Spool(folder, 1024)) {
            spool.write("hello\r\n".getBytes(), 0, 7);
            assertFalse(spool.onDisk());
            assertEquals(0, spoolFiles());
            try (InputStream in = spool.open()) {
                assertEquals("hello\r\n", new String(in.readAllBytes()));
            }
        }
    }

    @Test
    void largeBodiesMoveToAFileThatIsDeletedOnClose() throws IOException {
        byte[] chunk = new byte[700];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) i;
        }
        Spool spool = new Spool(folder, 1024);
        spool.write(chunk, 0, chunk.length);
        spool.write(chunk, 0, chunk.length);
        spool.write(chunk, 100, 50);
        assertTrue(spool.onDisk());
        assertEquals(1450, spool.size());
        assertEquals(1, spoolFiles());
        try (InputStream in = spool.open()) {
            byte[] all = in.readAllBytes();
            assertEquals(1450, all.length);
            assertArrayEquals(chunk, java.util.Arrays.copyOfRange(all, 700, 1400));
            assertEquals(chunk[100], all[1400]);
        }
        spool.close();
        assertEquals(0, spoolFiles());
    }

    @Test
    void preparingTheFolderCreatesItAndSweepsOnlyBodiesACrashLeft() throws IOException {
        Path spoolFolder = folder.resolve("spool");
        assertEquals(0, Spool.prepareFolder(spoolFolder));
        assertTrue(Files.isDirectory(spoolFolder));
        Files.writeString(spoolFolder.resolve("body-123.spool"), "left by a crash");
        Files.writeString(spoolFolder.resolve("temp-456.spool"), "a plugin's scratch file, left by a crash");
        Files.writeString(spoolFolder.resolve("notes.txt"), "an admin's file");
        assertEquals(2, Spool.prepareFolder(spoolFolder));
        assertFalse(Files.exists(spoolFolder.resolve("body-123.spool")));
        assertFalse(Files.exists(spoolFolder.resolve("temp-456.spool")));
        assertTrue(Files.exists(spoolFolder.resolve("notes.txt")));
    }

    @Test
    void aDiscardedBodyCannotBeReadAsEmpty() throws IOException {
        Spool spool = new Spool(folder, 1024);
        spool.write("hello\r\n".getBytes(), 0, 7);
        spool.close();
        assertThrows(IOException.class, spool::open);
    }
}
