package org.postern.metrics.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Iterator;

/**
 * The files in the spool folder and their bytes, counted when a scrape asks and kept for a second, so that the
 * files and bytes gauges of one scrape share one pass over the folder. The pass is bounded: it looks at
 * {@value #MOST_ENTRIES} entries at most, so a folder that holds more shows as that many.
 */
final class SpoolCount {
    static final int MOST_ENTRIES = 10_000;
    private static final long FRESH_NANOS = 1_000_000_000L;

    record Count(double files, double bytes) {
        static final Count UNKNOWN = new Count(Double.NaN, Double.NaN);
    }

    private Path countedFolder;
    private Count count;
    private long countedAt;

    synchronized Count of(Path folder) {
        long now = System.nanoTime();
        if (count == null || !folder.equals(countedFolder) || now - countedAt > FRESH_NANOS) {
            count = count(folder);
            countedFolder = folder;
            countedAt = now;
        }
        return count;
    }

    static Count count(Path folder) {
        long files = 0;
        long bytes = 0;
        int seen = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
            Iterator<Path> iterator = entries.iterator();
            while (seen++ < MOST_ENTRIES && iterator.hasNext()) {
                try {
                    BasicFileAttributes attributes = Files.readAttributes(iterator.next(), BasicFileAttributes.class);
                    if (attributes.isRegularFile()) {
                        files++;
                        bytes += attributes.size();
                    }
                } catch (NoSuchFileException goneMeanwhile) {
                    // a transaction ended between listing and reading: its file is no longer in the spool
                }
            }
        } catch (IOException | DirectoryIteratorException | UncheckedIOException e) {
            return Count.UNKNOWN;
        }
        return new Count(files, bytes);
    }

    /** Bytes usable on the file store the folder is on, NaN when that cannot be told. */
    static double usableBytes(Path folder) {
        try {
            return Files.getFileStore(folder).getUsableSpace();
        } catch (IOException e) {
            return Double.NaN;
        }
    }
}
