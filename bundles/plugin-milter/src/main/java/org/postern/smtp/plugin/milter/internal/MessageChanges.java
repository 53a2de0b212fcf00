package org.postern.smtp.plugin.milter.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.postern.smtp.api.Address;
import org.postern.smtp.api.HeaderField;
import org.postern.smtp.api.MessageHeader;
import org.postern.smtp.api.Recipient;
import org.postern.smtp.api.Transaction;

/**
 * Applies the modifications a milter sent with its answer to the end of the body to the transaction: header fields
 * added, inserted, changed and deleted, the body replaced, the sender changed, recipients added and removed.
 * Each is applied only if the milter declared its action in the option negotiation.
 */
final class MessageChanges {
    private final Transaction transaction;
    private final int actions;
    private final List<String> notes = new ArrayList<>();

    MessageChanges(Transaction transaction, int actions) {
        this.transaction = transaction;
        this.actions = actions;
    }

    /** Applies the modifications in order and returns one line per modification, for the log. */
    List<String> apply(List<MilterReply> modifications) throws IOException {
        MessageHeader header = transaction.header().orElseThrow();
        List<HeaderField> fields = new ArrayList<>(header.fields());
        int untouched = fields.size();
        boolean reordered = false;
        OutputStream newBody = null;
        Path newBodyFile = null;
        try {
            for (MilterReply change : modifications) {
                List<String> strings;
                switch (change.code()) {
                    case MilterReply.ADDHEADER -> {
                        if (allowed(MilterProtocol.ADDHDRS, change)) {
                            strings = change.strings();
                            fields.add(field(strings.get(0), strings.get(1)));
                            notes.add("added header " + strings.get(0));
                        }
                    }
                    case MilterReply.INSHEADER -> {
                        if (allowed(MilterProtocol.ADDHDRS, change)) {
                            strings = change.strings(4);
                            int at = Math.min(Math.max(change.index(), 0), fields.size());
                            fields.add(at, field(strings.get(0), strings.get(1)));
                            reordered |= at < fields.size() - 1;
                            notes.add("inserted header " + strings.get(0) + " at " + at);
                        }
                    }
                    case MilterReply.CHGHEADER -> {
                        if (allowed(MilterProtocol.CHGHDRS, change)) {
                            strings = change.strings(4);
                            reordered |= changeHeader(fields, change.index(), strings.get(0), strings.size() > 1 ? strings.get(1) : "");
                        }
                    }
                    case MilterReply.REPLBODY -> {
                        if (allowed(MilterProtocol.CHGBODY, change)) {
                            if (newBody == null) {
                                newBodyFile = transaction.tempFile();
                                newBody = Files.newOutputStream(newBodyFile);
                                notes.add("replaced the body");
                            }
                            newBody.write(change.data());
                        }
                    }
                    case MilterReply.CHGFROM -> {
                        if (allowed(MilterProtocol.CHGFROM, change)) {
                            strings = change.strings();
                            transaction.changeSender(address(strings.get(0)));
                            notes.add("changed the sender to " + strings.get(0) + (strings.size() > 1 ? " (ESMTP arguments " + strings.get(1) + " ignored)" : ""));
                        }
                    }
                    case MilterReply.ADDRCPT, MilterReply.ADDRCPT_PAR -> {
                        if (allowed(change.code() == MilterReply.ADDRCPT ? MilterProtocol.ADDRCPT : MilterProtocol.ADDRCPT_PAR, change)) {
                            strings = change.strings();
                            List<Recipient> recipients = new ArrayList<>(transaction.recipients());
                            recipients.add(new Recipient(address(strings.get(0)), Map.of()));
                            transaction.changeRecipients(recipients);
                            notes.add("added recipient " + strings.get(0));
                        }
                    }
                    case MilterReply.DELRCPT -> {
                        if (allowed(MilterProtocol.DELRCPT, change)) {
                            Address gone = address(change.strings().get(0));
                            transaction.changeRecipients(transaction.recipients().stream()
                                    .filter(recipient -> !recipient.address().address().equalsIgnoreCase(gone.address())).toList());
                            notes.add("removed recipient " + gone.format());
                        }
                    }
                    default -> notes.add("ignored " + change + ": Postern has no quarantine (hold queue)");
                }
            }
        } finally {
            if (newBody != null) {
                newBody.close();
            }
        }
        if (reordered) {
            rewrite(header, fields);
        } else {
            fields.subList(untouched, fields.size()).forEach(field -> header.add(field.name(), field.value().substring(1)));
        }
        if (newBodyFile != null) {
            try (InputStream body = Files.newInputStream(newBodyFile)) {
                transaction.replaceBody(body);
            }
        }
        return notes;
    }

    private boolean allowed(int action, MilterReply change) {
        if ((actions & action) == 0) {
            notes.add("ignored " + change + ": the milter did not declare that action");
            return false;
        }
        return true;
    }

    /**
     * CHGHEADER: the {@code index}th field of this name (from 1) gets the value, or is deleted for an empty value;
     * without such a field, a new one is added. Returns true when a field other than the last changed in place.
     */
    private boolean changeHeader(List<HeaderField> fields, int index, String name, String value) {
        int seen = 0;
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name().equalsIgnoreCase(name) && ++seen == index) {
                if (value.isEmpty()) {
                    fields.remove(i);
                    notes.add("deleted header " + name + " #" + index);
                } else {
                    fields.set(i, field(fields.get(i).name(), value));
                    notes.add("changed header " + name + " #" + index);
                }
                return true;
            }
        }
        if (!value.isEmpty()) {
            fields.add(field(name, value));
            notes.add("added header " + name + " (no #" + index + " to change)");
        }
        return false;
    }

    /** A field from the milter: the value it sent (folded with LF alone) with CRLF folding and the space after the colon. */
    private static HeaderField field(String name, String value) {
        return new HeaderField(name, " " + value.replaceAll("\r?\n", "\r\n"));
    }

    /**
     * Writes the fields back in their new order. MessageHeader can only append, prepend and remove, so every field is
     * removed and added again: untouched values keep their octets, but one that had no space after its colon gains one.
     */
    private static void rewrite(MessageHeader header, List<HeaderField> fields) {
        Set<String> names = new LinkedHashSet<>();
        header.fields().forEach(field -> names.add(field.name()));
        names.forEach(header::remove);
        for (HeaderField field : fields) {
            String value = field.value();
            header.add(field.name(), value.startsWith(" ") ? value.substring(1) : value);
        }
    }

    /** An address as a milter gives it, with or without angle brackets. */
    private static Address address(String path) throws IOException {
        String bracketed = path.startsWith("<") ? path : "<" + path + ">";
        Optional<Address> address = Address.parse(bracketed);
        if (address.isEmpty()) {
            throw new IOException("the milter sent an address that does not parse: " + path);
        }
        return address.get();
    }
}
