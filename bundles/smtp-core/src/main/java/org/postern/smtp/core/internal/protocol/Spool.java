package org.postern.smtp.core.internal.protocol;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The message body of one transaction: kept in memory up to a small threshold, then in a file of the spool
 * folder, so a session's memory stays small whatever the message size. Once on disk, the memory buffer is
 * the write buffer, so a message of many short lines costs few system calls. Written by one thread only.
 * The folder is created, and left over files swept, once when the server starts ({@link #prepareFolder}).
 */
public final class Spool implements AutoCloseable {
    /** Bodies and plugins' temporary files ({@code Transaction.tempFile}) are named so a sweep finds both. */
    static final String BODY_PREFIX = "body-";
    static final String TEMP_FILE_PREFIX = "temp-";
    static final String SUFFIX = ".spool";

    private final Path folder;
    private final int memoryThreshold;
    private byte[] memory = new byte[256];
    private int memoryLength;
    private FileChannel file;
    private Path filePath;
    private long size;

    public Spool(Path folder, int memoryThreshold) {
        this.folder = folder;
        this.memoryThreshold = Math.max(memoryThreshold, 256);
    }

    public void write(byte[] bytes, int offset, int length) throws IOException {
        size += length;
        while (length > 0) {
            if (memoryLength == memory.length) {
                makeRoom();
            }
            int chunk = Math.min(length, memory.length - memoryLength);
            System.arraycopy(bytes, offset, memory, memoryLength, chunk);
            memoryLength += chunk;
            offset += chunk;
            length -= chunk;
        }
    }

    private void makeRoom() throws IOException {
        if (memory.length < memoryThreshold) {
            memory = Arrays.copyOf(memory, Math.min(memoryThreshold, memory.length * 2));
            return;
        }
        spill();
    }

    /** Moves what memory holds into the spool file, creating it first. */
    private void spill() throws IOException {
        if (file == null) {
            filePath = Files.createTempFile(folder, BODY_PREFIX, SUFFIX);
            file = FileChannel.open(filePath, StandardOpenOption.WRITE, StandardOpenOption.READ);
        }
        flushMemory();
    }

    /** The file holding everything written so far, moved out of memory first if it was still there. */
    public Path file() throws IOException {
        if (memory == null) {
            throw new IOException("the message body was discarded when its transaction ended");
        }
        spill();
        return filePath;
    }

    /** A new, empty spool in the same folder with the same memory threshold. */
    public Spool emptyLike() {
        return new Spool(folder, memoryThreshold);
    }

    private void flushMemory() throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(memory, 0, memoryLength);
        while (buffer.hasRemaining()) {
            file.write(buffer);
        }
        memoryLength = 0;
    }

    public long size() {
        return size;
    }

    /** True once the body outgrew memory and lives in a file. */
    public boolean onDisk() {
        return file != null;
    }

    /** A fresh stream over everything written so far. */
    public InputStream open() throws IOException {
        if (memory == null) {
            throw new IOException("the message body was discarded when its transaction ended");
        }
        if (file == null) {
            return new ByteArrayInputStream(memory, 0, memoryLength);
        }
        flushMemory();
        return Channels.newInputStream(FileChannel.open(filePath, StandardOpenOption.READ));
    }

    /**
     * Creates the spool folder and deletes the body files a crash left in it; returns how many. Call only
     * while no session of this server uses the folder.
     */
    public static int prepareFolder(Path folder) throws IOException {
        Files.createDirectories(folder);
        int swept = 0;
        try (var leftOvers = Files.newDirectoryStream(folder, "{" + BODY_PREFIX + "," + TEMP_FILE_PREFIX + "}*" + SUFFIX)) {
            for (Path leftOver : leftOvers) {
                Files.deleteIfExists(leftOver);
                swept++;
            }
        }
        return swept;
    }

    /** Deletes the spool file, if any. */
    @Override
    public void close() throws IOException {
        if (file != null) {
            file.close();
            Files.deleteIfExists(filePath);
            file = null;
        }
        memory = null;
    }
}
