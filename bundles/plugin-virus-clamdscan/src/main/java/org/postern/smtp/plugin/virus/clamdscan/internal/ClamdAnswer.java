package org.postern.smtp.plugin.virus.clamdscan.internal;

import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * clamd's answer about one message: the engine that scanned it (VERSION's reply up to the first slash, as qpsmtpd
 * names it in X-Virus-Checked) and INSTREAM's verdict, with the signature's name when it found one.
 */
record ClamdAnswer(String engine, Outcome outcome, String virus) {
    enum Outcome {
        CLEAN,
        INFECTED,
        /** clamd stopped reading at its StreamMaxLength: the message was not scanned. */
        TOO_LARGE
    }

    private static final Pattern FOUND = Pattern.compile("stream: (.+) FOUND");

    /**
     * Reads the replies to VERSION ({@code ClamAV 1.4.6/27480/Mon Dec  1 09:27:01 2025}; null when clamd sent none)
     * and to INSTREAM ({@code stream: OK}, {@code stream: Eicar-Signature FOUND},
     * {@code INSTREAM size limit exceeded. ERROR}).
     *
     * @throws IOException for any other reply to INSTREAM: clamd failed to scan (its replies then end in ERROR)
     */
    static ClamdAnswer of(String version, String scanReply) throws IOException {
        String engine = version == null || version.isBlank() ? "ClamAV" : version.split("/", 2)[0].strip();
        if (scanReply.equals("stream: OK")) {
            return new ClamdAnswer(engine, Outcome.CLEAN, null);
        }
        Matcher found = FOUND.matcher(scanReply);
        if (found.matches()) {
            return new ClamdAnswer(engine, Outcome.INFECTED, found.group(1));
        }
        if (scanReply.startsWith("INSTREAM size limit exceeded")) {
            return new ClamdAnswer(engine, Outcome.TOO_LARGE, null);
        }
        throw new IOException("clamd answered: " + scanReply);
    }
}
