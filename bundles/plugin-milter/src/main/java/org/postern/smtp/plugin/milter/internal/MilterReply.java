package org.postern.smtp.plugin.milter.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One packet from the milter: its reply octet (SMFIR_*) and its data, read by the accessors of its kind. */
record MilterReply(char code, byte[] data) {
    static final char ACCEPT = 'a';
    static final char CONTINUE = 'c';
    static final char DISCARD = 'd';
    static final char REJECT = 'r';
    static final char TEMPFAIL = 't';
    static final char REPLYCODE = 'y';
    static final char PROGRESS = 'p';
    static final char SKIP = 's';
    static final char ADDHEADER = 'h';
    static final char INSHEADER = 'i';
    static final char CHGHEADER = 'm';
    static final char REPLBODY = 'b';
    static final char ADDRCPT = '+';
    static final char ADDRCPT_PAR = '2';
    static final char DELRCPT = '-';
    static final char CHGFROM = 'e';
    static final char QUARANTINE = 'q';
    private static final String MODIFICATIONS = "himb+2-eq";

    static final MilterReply CONTINUED = new MilterReply(CONTINUE, new byte[0]);

    /** A frame without its length prefix: the reply octet, then the data. */
    static MilterReply decode(ByteBuf frame) throws IOException {
        if (!frame.isReadable()) {
            throw new IOException("empty milter packet");
        }
        char code = (char) frame.readUnsignedByte();
        return new MilterReply(code, ByteBufUtil.getBytes(frame));
    }

    /** A change to the message the milter asks for while answering the end of the body. */
    boolean modification() {
        return MODIFICATIONS.indexOf(code) >= 0;
    }

    /** The NUL-terminated strings of the data, from {@code offset}, as ISO-8859-1 (a header's octets as the milter sent them). */
    List<String> strings(int offset) {
        List<String> strings = new ArrayList<>();
        int start = offset;
        for (int i = offset; i < data.length; i++) {
            if (data[i] == 0) {
                strings.add(new String(data, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        if (start < data.length) {
            strings.add(new String(data, start, data.length - start, StandardCharsets.ISO_8859_1));
        }
        return strings;
    }

    List<String> strings() {
        return strings(0);
    }

    /** The leading four-octet number of INSHEADER and CHGHEADER (the field's index). */
    int index() {
        return ByteBuffer.wrap(data, 0, 4).getInt();
    }

    /** SMFIR_REPLYCODE's text: {@code 550 5.7.1 text}, lines of a multi-line reply separated by CRLF. */
    String replyText() {
        List<String> strings = strings();
        return strings.isEmpty() ? "" : new String(strings.get(0).getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    /** The milter's answer to SMFIC_OPTNEG. */
    record Negotiation(int version, int actions, int protocol, Map<Integer, Set<String>> macrosByStage) {
        /** The macros the milter wants at this stage, or null when it did not say (then every macro is sent). */
        Set<String> macrosAt(int stage) {
            return macrosByStage.get(stage);
        }
    }

    Negotiation negotiation() throws IOException {
        if (code != MilterProtocol.OPTNEG || data.length < 12) {
            throw new IOException("milter answered option negotiation with '" + code + "' (" + data.length + " octets)");
        }
        ByteBuffer in = ByteBuffer.wrap(data);
        int version = in.getInt();
        int actions = in.getInt();
        int protocol = in.getInt();
        // SMFIR_SETSYMLIST: after the three numbers, pairs of a stage number and the macro names it wants, space separated
        Map<Integer, Set<String>> macros = new HashMap<>();
        while (in.remaining() >= 4) {
            int stage = in.getInt();
            int end = in.position();
            while (end < data.length && data[end] != 0) {
                end++;
            }
            String names = new String(data, in.position(), end - in.position(), StandardCharsets.US_ASCII);
            Set<String> wanted = new LinkedHashSet<>();
            for (String name : names.trim().split("\\s+")) {
                if (!name.isEmpty()) {
                    wanted.add(name);
                }
            }
            macros.put(stage, wanted);
            in.position(Math.min(data.length, end + 1));
        }
        return new Negotiation(version, actions, protocol, macros);
    }

    @Override
    public String toString() {
        return "'" + code + "'" + (data.length == 0 ? "" : " " + String.join("|", strings()));
    }
}
