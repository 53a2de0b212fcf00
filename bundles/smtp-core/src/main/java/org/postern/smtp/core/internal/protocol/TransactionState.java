package org.postern.smtp.core.internal.protocol;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.Transaction;
import org.postern.smtp.api.monitor.TransactionRecord;
import org.postern.smtp.core.internal.dispatch.HookContexts;

/** One transaction; mutated on the connection's thread, read by hooks while the session waits for them. */
final class TransactionState implements Transaction, HookContexts.Discardable {
    private static final byte[] CRLF = {'\r', '\n'};

    private final Notes notes = Notes.create();
    private final List<Recipient> recipients = new CopyOnWriteArrayList<>();
    private volatile Address sender;
    private volatile Map<String, String> mailParameters = Map.of();
    private volatile ParsedHeader header;
    private volatile Spool body;
    private volatile boolean discarded;
    private volatile long size;
    private final Path spoolFolder;
    private final String id;
    private final List<Path> tempFiles = new CopyOnWriteArrayList<>();
    private long beganNanos;
    private TransactionRecord.Outcome outcome = TransactionRecord.Outcome.ABANDONED;
    private Reply endingReply;

    /**
     * @param id the transaction's id, for logs
     * @param spoolFolder where the body spills over and plugins' temporary files go
     */
    TransactionState(String id, Path spoolFolder) {
        this.id = id;
        this.spoolFolder = spoolFolder;
    }

    @Override
    public String id() {
        return id;
    }

    void sender(Address sender, Map<String, String> parameters) {
        beganNanos = System.nanoTime();
        this.sender = sender;
        this.mailParameters = Map.copyOf(parameters);
    }

    /** The client was told the transaction's end: a 2xx when the message was queued, a refusal otherwise. */
    void ended(TransactionRecord.Outcome outcome, Reply reply) {
        this.outcome = outcome;
        this.endingReply = reply;
    }

    /** This transaction as it ended, for monitors and its log line; one that never ended is abandoned. */
    TransactionRecord record(String listener, String client) {
        return new TransactionRecord(id, listener, client, sender == null ? "" : sender.format(),
                recipients.stream().map(recipient -> recipient.address().format()).toList(), size, outcome,
                endingReply == null ? "" : endingReply.firstLine(), Duration.ofNanos(System.nanoTime() - beganNanos));
    }

    void addRecipient(Recipient recipient) {
        recipients.add(recipient);
    }

    void header(ParsedHeader header) {
        this.header = header;
    }

    ParsedHeader parsedHeader() {
        return header;
    }

    void body(Spool body) {
        this.body = body;
    }

    void size(long size) {
        this.size = size;
    }

    /** Drops the spooled body, if any. */
    @Override
    public boolean discarded() {
        return discarded;
    }

    void discard() throws IOException {
        Spool spool = body;
        body = null;
        if (spool != null) {
            discarded = true;
            spool.close();
        }
        for (Path file : tempFiles) {
            Files.deleteIfExists(file);
        }
        tempFiles.clear();
    }

    @Override
    public Path tempFile() throws IOException {
        if (discarded) {
            throw new IOException("the transaction has ended");
        }
        Path file = Files.createTempFile(spoolFolder, Spool.TEMP_FILE_PREFIX, Spool.SUFFIX);
        tempFiles.add(file);
        return file;
    }

    @Override
    public Optional<Address> sender() {
        return Optional.ofNullable(sender);
    }

    @Override
    public Map<String, String> mailParameters() {
        return mailParameters;
    }

    @Override
    public List<Recipient> recipients() {
        return List.copyOf(recipients);
    }

    @Override
    public Optional<MessageHeader> header() {
        return Optional.ofNullable(header);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public InputStream body() throws IOException {
        Spool spool = body;
        if (spool == null && discarded) {
            throw new IOException("the message body was discarded when its transaction ended");
        }
        return spool == null ? InputStream.nullInputStream() : spool.open();
    }

    @Override
    public void changeSender(Address newSender) {
        if (sender == null) {
            throw new IllegalStateException("no mail transaction is open");
        }
        sender = Objects.requireNonNull(newSender, "sender");
    }

    @Override
    public void changeRecipients(List<Recipient> newRecipients) {
        List<Recipient> copy = List.copyOf(newRecipients);
        recipients.clear();
        recipients.addAll(copy);
    }

    @Override
    public Path bodyFile() throws IOException {
        return spool().file();
    }

    /** The new body goes to a new spool of the same folder and threshold; the old one is deleted. */
    @Override
    public void replaceBody(InputStream content) throws IOException {
        Spool old = spool();
        Spool fresh = old.emptyLike();
        try {
            byte[] buffer = new byte[64 * 1024];
            int read;
            while ((read = content.read(buffer)) > 0) {
                fresh.write(buffer, 0, read);
            }
        } catch (IOException | RuntimeException e) {
            fresh.close();
            throw e;
        }
        body = fresh;
        old.close();
    }

    private Spool spool() throws IOException {
        Spool spool = body;
        if (spool == null) {
            throw new IOException(discarded ? "the message body was discarded when its transaction ended" : "no message body yet");
        }
        return spool;
    }

    @Override
    public InputStream message() throws IOException {
        ParsedHeader current = header;
        byte[] head = current == null ? new byte[0] : current.encode();
        return new SequenceInputStream(new ByteArrayInputStream(head),
                new SequenceInputStream(new ByteArrayInputStream(CRLF), body()));
    }

    @Override
    public Notes notes() {
        return notes;
    }
}
