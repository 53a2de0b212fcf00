package org.postern.smtp.plugin.dmarc.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The records an aggregate report (RFC 7489 7.2) is made from: one tab-separated line per message evaluated under a
 * policy that asks for reports ({@code rua}), in one file per UTC day, {@code dmarc-YYYY-MM-DD.tsv}, whose first line
 * names the columns: a column added later goes last, and readers take the columns by name, so older files stay readable
 * (see {@link AggregateReports}). Lines are written by one thread of its own, so no hook thread, nor the resolver's, waits for the
 * disk; when 10,000 lines wait already, a line is dropped with a warning.
 */
final class AggregateRecords implements AutoCloseable {
    static final List<String> COLUMNS = List.of("time", "source_ip", "header_from", "envelope_from", "envelope_to",
            "policy_domain", "p", "sp", "pct", "adkim", "aspf", "disposition", "dkim_aligned", "spf_aligned", "dkim",
            "spf", "rua", "fo");
    private static final Logger LOG = LoggerFactory.getLogger(AggregateRecords.class);

    /** One message's record: the values of {@link #COLUMNS} but the first. */
    record Row(List<String> values) {
    }

    private final Path folder;
    private final Clock clock;
    private final ThreadPoolExecutor writer;

    AggregateRecords(Path folder, Clock clock) {
        this.folder = folder;
        this.clock = clock;
        this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), runnable -> {
            Thread thread = new Thread(runnable, "postern-dmarc-records");
            thread.setDaemon(true);
            return thread;
        });
    }

    static String fileName(LocalDate day) {
        return "dmarc-" + day + ".tsv";
    }

    void add(Row row) {
        Instant now = clock.instant();
        try {
            writer.execute(() -> write(now, row));
        } catch (RejectedExecutionException e) {
            LOG.warn("DMARC record for {} dropped: {} records wait to be written to {}", row.values().get(1),
                    writer.getQueue().size(), folder);
        }
    }

    private void write(Instant time, Row row) {
        Path file = folder.resolve(fileName(LocalDate.ofInstant(time, ZoneOffset.UTC)));
        StringBuilder line = new StringBuilder();
        try {
            if (!Files.exists(file)) {
                Files.createDirectories(folder);
                line.append(String.join("\t", COLUMNS)).append('\n');
            }
            line.append(time.getEpochSecond());
            for (String value : row.values()) {
                line.append('\t').append(value.replaceAll("[\t\r\n]", " "));
            }
            Files.writeString(file, line.append('\n'), StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            LOG.error("DMARC record not written to {}: {}", file, e.toString());
        }
    }

    /** Writes what waits, for up to five seconds. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            if (!writer.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("DMARC records still waiting after 5 s were not written to {}", folder);
                writer.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
