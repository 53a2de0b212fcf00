package org.postern.smtp.plugin.queue.postfixqueue.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One message handed to Postfix's cleanup service, in the protocol Postfix's own pickup speaks to it (and qpsmtpd's
 * {@code Qpsmtpd::Postfix}). Cleanup opens with attributes, {@code name NUL value NUL} pairs ended by an empty name,
 * naming the queue id; the client sends its flags the same way, then the message as records: a type byte, the data's
 * length in base-128 digits, lowest first, each but the last with the high bit set, then the data. After the END
 * record cleanup writes the queue file and answers with {@code status} and {@code reason} attributes.
 */
final class CleanupSession {
    private static final int TIME = 'T';
    private static final int FROM = 'S';
    private static final int RCPT = 'R';
    private static final int MESSAGE = 'M';
    private static final int NORMAL = 'N';
    private static final int CONTINUED = 'L';
    private static final int EXTRACTED = 'X';
    private static final int END = 'E';
    /** Longer lines go in pieces of this size, each but the last a CONTINUED record, as qpsmtpd splits them. */
    static final int MAX_RECORD = 1024;
    /** Bounds what a wrong peer can make this read: cleanup's attributes are a few short names and values. */
    private static final int MAX_ATTRIBUTE = 4096;
    private static final int MAX_ATTRIBUTES = 32;
    private static final byte[] NOTHING = new byte[0];

    /** Cleanup's answer: its status bits (0 when queued) and its reason, often starting with an enhanced status code. */
    record Outcome(int status, String reason) {
    }

    private final InputStream in;
    private final OutputStream out;

    /** @param out buffered: records are small, and cleanup reads them as they come */
    CleanupSession(InputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    /** Reads cleanup's greeting and sends the flags; returns the queue id cleanup gave the message. */
    String open(int flags) throws IOException {
        Map<String, String> greeting = attributes();
        // Postfix 3.x names its protocol first: a path to another service's socket would answer with another name
        String protocol = greeting.getOrDefault("protocol", "cleanup_protocol");
        if (!protocol.equals("cleanup_protocol")) {
            throw new IOException("the service speaks " + protocol + ", not cleanup_protocol");
        }
        String queueId = greeting.get("queue_id");
        if (queueId == null) {
            throw new IOException("cleanup gave no queue_id, only " + greeting.keySet());
        }
        out.write(("flags\0" + flags + "\0\0").getBytes(StandardCharsets.US_ASCII));
        return queueId;
    }

    /** The envelope: arrival time, sender (empty for the null sender) and recipients, in Postfix's internal form. */
    void envelope(long arrivalSeconds, String sender, List<String> recipients) throws IOException {
        record(TIME, Long.toString(arrivalSeconds));
        record(FROM, sender);
        for (String recipient : recipients) {
            record(RCPT, recipient);
        }
    }

    /**
     * The message, one NORMAL record per line without its line end (CRLF or LF), a longer line in CONTINUED pieces;
     * a CR not before LF is part of its line.
     */
    void message(InputStream message) throws IOException {
        record(MESSAGE, NOTHING, 0);
        byte[] buffer = new byte[64 * 1024];
        byte[] line = new byte[MAX_RECORD];
        int length = 0;
        boolean heldCr = false;
        int read;
        while ((read = message.read(buffer)) > 0) {
            for (int i = 0; i < read; i++) {
                byte b = buffer[i];
                if (b == '\n') {
                    record(NORMAL, line, length);
                    length = 0;
                    heldCr = false;
                    continue;
                }
                if (heldCr) {
                    length = append(line, length, (byte) '\r');
                }
                heldCr = b == '\r';
                if (!heldCr) {
                    length = append(line, length, b);
                }
            }
        }
        if (heldCr) {
            length = append(line, length, (byte) '\r');
        }
        if (length > 0) {
            record(NORMAL, line, length);
        }
    }

    /** Appends a byte to the line, first sending the line's full piece as a CONTINUED record; returns the new length. */
    private int append(byte[] line, int length, byte b) throws IOException {
        if (length == line.length) {
            record(CONTINUED, line, length);
            length = 0;
        }
        line[length] = b;
        return length + 1;
    }

    /** Ends the message: cleanup writes its queue file now, and answers. */
    Outcome finish() throws IOException {
        record(EXTRACTED, NOTHING, 0);
        record(END, NOTHING, 0);
        out.flush();
        Map<String, String> answer = attributes();
        String status = answer.get("status");
        if (status == null || !status.matches("\\d{1,10}")) {
            throw new IOException("cleanup answered without a status: " + answer);
        }
        return new Outcome((int) Long.parseLong(status), answer.getOrDefault("reason", ""));
    }

    private void record(int type, String data) throws IOException {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        record(type, bytes, bytes.length);
    }

    private void record(int type, byte[] data, int length) throws IOException {
        out.write(type);
        int rest = length;
        while (rest >= 0x80) {
            out.write((rest & 0x7F) | 0x80);
            rest >>>= 7;
        }
        out.write(rest);
        out.write(data, 0, length);
    }

    /** Attributes up to the empty name that ends them. */
    private Map<String, String> attributes() throws IOException {
        out.flush();
        Map<String, String> attributes = new HashMap<>();
        for (String name = field(); !name.isEmpty(); name = field()) {
            if (attributes.size() == MAX_ATTRIBUTES) {
                throw new IOException("cleanup sent more than " + MAX_ATTRIBUTES + " attributes");
            }
            attributes.put(name, field());
        }
        return attributes;
    }

    private String field() throws IOException {
        ByteArrayOutputStream field = new ByteArrayOutputStream();
        for (int b = in.read(); b != 0; b = in.read()) {
            if (b < 0) {
                throw new IOException("cleanup closed the connection");
            }
            if (field.size() == MAX_ATTRIBUTE) {
                throw new IOException("cleanup sent an attribute longer than " + MAX_ATTRIBUTE + " bytes");
            }
            field.write(b);
        }
        return field.toString(StandardCharsets.UTF_8);
    }
}
