package org.postern.smtp.testkit;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.Notes;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.Transaction;

/** A transaction whose sender, recipients and message a test sets. The message is given in wire form (CRLF). */
public final class TestTransaction implements Transaction {
    private final Notes notes = Notes.create();
    private final List<Recipient> recipients = new ArrayList<>();
    private Address sender;
    private byte[] message = new byte[0];
    private int bodyStart;
    private TestHeader header;
    private String id = "test.1";

    /** The transaction's id ({@code test.1} unless set). */
    public TestTransaction id(String transactionId) {
        id = transactionId;
        return this;
    }

    @Override
    public String id() {
        return id;
    }

    public TestTransaction sender(String path) {
        sender = Address.parse(path).orElseThrow(() -> new IllegalArgumentException("not a path: " + path));
        return this;
    }

    public TestTransaction recipient(String path) {
        recipients.add(new Recipient(Address.parse(path).orElseThrow(() -> new IllegalArgumentException("not a path: " + path)), Map.of()));
        return this;
    }

    /** The whole message, header and body, with CRLF line endings. */
    public TestTransaction message(String wire) {
        message = wire.getBytes(StandardCharsets.ISO_8859_1);
        int end = wire.indexOf("\r\n\r\n");
        bodyStart = end < 0 ? 0 : end + 4;
        header = end < 0 ? null : TestHeader.parse(wire.substring(0, end));
        return this;
    }

    @Override
    public Optional<Address> sender() {
        return Optional.ofNullable(sender);
    }

    @Override
    public Map<String, String> mailParameters() {
        return Map.of();
    }

    @Override
    public List<Recipient> recipients() {
        return List.copyOf(recipients);
    }

    /** The header parsed from the message's header section, once {@link #message} gave one. */
    @Override
    public Optional<MessageHeader> header() {
        return Optional.ofNullable(header);
    }

    @Override
    public long size() {
        return message.length;
    }

    @Override
    public InputStream body() {
        return new ByteArrayInputStream(message, bodyStart, message.length - bodyStart);
    }

    @Override
    public InputStream message() {
        return new ByteArrayInputStream(message);
    }

    @Override
    public void changeSender(Address newSender) {
        sender = newSender;
    }

    @Override
    public void changeRecipients(List<Recipient> newRecipients) {
        recipients.clear();
        recipients.addAll(newRecipients);
    }

    /** The body in a temporary file that is deleted when the JVM exits. */
    @Override
    public Path bodyFile() throws IOException {
        Path file = Files.createTempFile("postern-test-body-", ".eml");
        file.toFile().deleteOnExit();
        try (InputStream in = body()) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    /** A new empty file in the system's temporary folder, deleted when the JVM exits. */
    @Override
    public Path tempFile() throws IOException {
        Path file = Files.createTempFile("postern-test-", ".tmp");
        file.toFile().deleteOnExit();
        return file;
    }

    @Override
    public void replaceBody(InputStream content) throws IOException {
        byte[] head = Arrays.copyOf(message, bodyStart);
        byte[] body = content.readAllBytes();
        message = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, message, head.length, body.length);
    }

    @Override
    public Notes notes() {
        return notes;
    }
}
