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
 * folder, so a session's memory stays small whatever the message size. Written by one thread only.
 */
public final class Spool implements AutoCloseable {
    private final Path folder;
    private final int memoryThreshold;
    private byte[] memory = new byte[256];
    private int memoryLength;
    private FileChannel file;
    private Path filePath;
    private long size;

    public Spool(Path folder, int memoryThreshold) {
        this.folder = folder;
        this.memoryThreshold = memoryThreshold;
    }

    public void write(byte[] bytes, int offset, int length) throws IOException {
        if (file == null && memoryLength + length <= memoryThreshold) {
            if (memoryLength + length > memory.length) {
                memory = Arrays.copyOf(memory, Math.min(memoryThreshold, Math.max(memory.length * 2, memoryLength + length)));
            }
            System.arraycopy(bytes, offset, memory, memoryLength, length);
            memoryLength += length;
        } else {
            if (file == null) {
                spill();
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, length);
            while (buffer.hasRemaining()) {
                file.write(buffer);
            }
        }
        size += length;
    }

    private void spill() throws IOException {
        Files.createDirectories(folder);
        filePath = Files.createTempFile(folder, "body-", ".spool");
        file = FileChannel.open(filePath, StandardOpenOption.WRITE, StandardOpenOption.READ);
        file.write(ByteBuffer.wrap(memory, 0, memoryLength));
        memory = null;
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
        if (file == null) {
            return new ByteArrayInputStream(memory, 0, memoryLength);
        }
        return Channels.newInputStream(FileChannel.open(filePath, StandardOpenOption.READ));
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
